//! A hand-encoded ONNX model for tests and the benchmark: `y = x · W + b`,
//! input `x` f32 `[1, 9]`, output `y` f32 `[1, 1]`, so its score is known by
//! construction (a linear function of the features). Not a risk model: it
//! exercises the engine's threshold mapping, model pinning and records
//! independently of `models/risk-v1.onnx`.
//!
//! The protobuf is written by hand (ONNX `ModelProto`, IR version 7, opset 13:
//! a `MatMul` and an `Add`), so the bytes are stable and reviewable.
#![allow(dead_code)]

/// Weights in `FEATURE_NAMES` order: amount_log_ratio, new_counterparty, velocity_1m, hour_sin,
/// hour_cos, fee_log_ratio, is_approval, unlimited_approval, unknown_calldata. Powers of two so that
/// every score is exact in f32.
pub const THRESHOLD_WEIGHTS: [f32; 9] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.5, 0.75];
/// Bias: a request with none of the flags scores 0.125 (1250 bps).
pub const THRESHOLD_BIAS: f32 = 0.125;

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn tag(field: u64, wire: u64, out: &mut Vec<u8>) {
    varint(field << 3 | wire, out);
}

fn int_field(field: u64, v: u64, out: &mut Vec<u8>) {
    tag(field, 0, out);
    varint(v, out);
}

fn bytes_field(field: u64, bytes: &[u8], out: &mut Vec<u8>) {
    tag(field, 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// `TensorProto` of f32 with `dims`, named `name`.
fn tensor(name: &str, dims: &[u64], values: &[f32]) -> Vec<u8> {
    let mut t = Vec::new();
    for d in dims {
        int_field(1, *d, &mut t); // dims
    }
    int_field(2, 1, &mut t); // data_type = FLOAT
    bytes_field(8, name.as_bytes(), &mut t); // name
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    bytes_field(9, &raw, &mut t); // raw_data
    t
}

/// `ValueInfoProto` of an f32 tensor with a fixed shape.
fn value_info(name: &str, dims: &[u64]) -> Vec<u8> {
    let mut shape = Vec::new();
    for d in dims {
        let mut dim = Vec::new();
        int_field(1, *d, &mut dim); // dim_value
        bytes_field(1, &dim, &mut shape); // dim
    }
    let mut tensor_type = Vec::new();
    int_field(1, 1, &mut tensor_type); // elem_type = FLOAT
    bytes_field(2, &shape, &mut tensor_type); // shape
    let mut type_proto = Vec::new();
    bytes_field(1, &tensor_type, &mut type_proto); // tensor_type
    let mut vi = Vec::new();
    bytes_field(1, name.as_bytes(), &mut vi);
    bytes_field(2, &type_proto, &mut vi);
    vi
}

fn node(op: &str, inputs: &[&str], output: &str) -> Vec<u8> {
    let mut n = Vec::new();
    for i in inputs {
        bytes_field(1, i.as_bytes(), &mut n);
    }
    bytes_field(2, output.as_bytes(), &mut n);
    bytes_field(4, op.as_bytes(), &mut n);
    n
}

/// ONNX bytes of `y = x · weights + bias`.
pub fn linear_model(weights: &[f32; 9], bias: f32) -> Vec<u8> {
    let mut graph = Vec::new();
    bytes_field(1, &node("MatMul", &["x", "w"], "m"), &mut graph);
    bytes_field(1, &node("Add", &["m", "b"], "y"), &mut graph);
    bytes_field(2, b"sentinel-test-linear", &mut graph);
    bytes_field(5, &tensor("w", &[9, 1], weights), &mut graph);
    bytes_field(5, &tensor("b", &[1, 1], &[bias]), &mut graph);
    bytes_field(11, &value_info("x", &[1, 9]), &mut graph);
    bytes_field(12, &value_info("y", &[1, 1]), &mut graph);
    let mut model = Vec::new();
    int_field(1, 7, &mut model); // ir_version
    bytes_field(2, b"sentinel-tests", &mut model); // producer_name
    bytes_field(7, &graph, &mut model); // graph
    let mut opset = Vec::new();
    bytes_field(1, b"", &mut opset); // domain ""
    int_field(2, 13, &mut opset); // version
    bytes_field(8, &opset, &mut model); // opset_import
    model
}

/// The threshold-mapping stub: 1250 bps plain, +2500 approval, +5000 unlimited, +7500 unknown calldata.
pub fn threshold_model() -> Vec<u8> {
    linear_model(&THRESHOLD_WEIGHTS, THRESHOLD_BIAS)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}
