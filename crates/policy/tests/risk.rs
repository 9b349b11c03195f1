//! The risk model and its features: the committed model is the one its card
//! describes, it scores what the card's data generator calls normal below the
//! approval threshold and what it calls anomalous at or above the deny
//! threshold, broken models are refused with POLICY_MODEL_INVALID, and the
//! features follow their definitions (crates/policy/src/features.rs).
use sentinel_eth::{Address, U256};
use sentinel_policy::{
    Asset, CallKind, Caller, Movement, MovementKind, OpKind, PolicyErrorCode, PolicyRequest, RiskFeatures, RiskHistory,
    RiskModel, FEATURE_COUNT, FEATURE_NAMES,
};
use sha2::{Digest, Sha256};

const MODEL: &[u8] = include_bytes!("../../../models/risk-v1.onnx");
const CARD: &str = include_str!("../../../models/risk-v1.json");

const APPROVE_AT_BPS: u16 = 6000;
const DENY_AT_BPS: u16 = 8500;
const SECOND: u64 = 1_000_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
/// 2026-01-05T00:00:00Z (a Monday).
const DAY0: u64 = 1_767_571_200 * SECOND;
const GWEI: u64 = 1_000_000_000;
const ETH: u64 = 1_000_000_000_000_000_000;

fn card() -> serde_json::Value {
    serde_json::from_str(CARD).expect("the model card is JSON")
}

fn model() -> RiskModel {
    RiskModel::load(MODEL).expect("the committed model loads")
}

fn hour_features(hour: u32) -> (f32, f32) {
    let angle = 2.0 * std::f64::consts::PI * f64::from(hour) / 24.0;
    (angle.sin() as f32, angle.cos() as f32)
}

fn addr(n: u8) -> Address {
    Address::repeat_byte(n)
}

fn tx() -> PolicyRequest {
    let mut r =
        PolicyRequest::bare(OpKind::Transaction, Caller { principal: "agent", key_id: "key-1", key_label: "trading" });
    r.chain_id = Some(1);
    r
}

/// A native transfer of `amount` wei to `to` with a fee cap of `fee` wei.
fn transfer(to: Address, amount: U256, fee: u64) -> PolicyRequest {
    let mut r = tx();
    r.destination = Some(to);
    r.movements.push(Movement {
        asset: Asset::Native { chain_id: Some(1) },
        amount,
        kind: MovementKind::NativeValue,
        counterparty: Some(to),
    });
    r.max_fee_per_gas = Some(U256::from(fee));
    r
}

fn approval(token: Address, spender: Address, amount: U256) -> Movement {
    Movement {
        asset: Asset::Erc20 { chain_id: Some(1), token },
        amount,
        kind: MovementKind::Approval,
        counterparty: Some(spender),
    }
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

fn assert_features(actual: RiskFeatures, expected: [f32; FEATURE_COUNT]) {
    for i in 0..FEATURE_COUNT {
        assert!(
            close(actual.0[i], expected[i]),
            "{}: got {}, expected {} (all: {:?})",
            FEATURE_NAMES[i],
            actual.0[i],
            expected[i],
            actual.0
        );
    }
}

// --- the committed model ------------------------------------------------------------------------

#[test]
fn committed_model_matches_its_card() {
    let card = card();
    let hex_hash = hex::encode(Sha256::digest(MODEL));
    assert_eq!(card["sha256"].as_str(), Some(hex_hash.as_str()), "models/risk-v1.json sha256");
    assert_eq!(card["bytes"].as_u64(), Some(MODEL.len() as u64));
    let model = model();
    assert_eq!(hex::encode(model.sha256), hex_hash);
    // The card lists the features in the order the enclave computes them.
    let names: Vec<&str> = card["features"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, FEATURE_NAMES);
    // Held-out metrics are recorded.
    let held = &card["metrics"]["held_out"];
    for field in ["auc", "accuracy_at_0.5"] {
        assert!(held[field].as_f64().is_some(), "{field}");
    }
    for threshold in ["at_6000_bps", "at_8500_bps"] {
        assert!(held[threshold]["precision"].as_f64().is_some() && held[threshold]["recall"].as_f64().is_some());
    }
}

#[test]
fn debug_shows_only_the_hash() {
    let model = model();
    assert_eq!(format!("{model:?}"), format!("RiskModel({})", hex::encode(Sha256::digest(MODEL))));
}

/// The card's reference vectors (scored by onnx's reference evaluator when
/// training): tract gives the same score (to 1 bps), normal ones pass, anomalous ones deny.
#[test]
fn reference_vectors_score_as_the_card_says() {
    let model = model();
    let card = card();
    let vectors = card["reference_vectors"].as_array().expect("reference vectors");
    assert!(vectors.len() >= 2);
    for v in vectors {
        let values: Vec<f32> = v["features"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let features = RiskFeatures(values.try_into().expect("nine features"));
        let score = model.score_bps(&features).expect("scores");
        let expected = v["score_bps"].as_u64().unwrap() as i64;
        assert!((i64::from(score) - expected).abs() <= 1, "{}: tract {score}, reference {expected}", v["name"]);
        match v["label"].as_str().unwrap() {
            "normal" => assert!(score < APPROVE_AT_BPS, "{}: {score}", v["name"]),
            "anomalous" => assert!(score >= DENY_AT_BPS, "{}: {score}", v["name"]),
            other => panic!("label {other}"),
        }
    }
}

#[test]
fn normal_request_passes_and_anomalous_one_is_denied() {
    let model = model();
    // Normal (the generator's everyday transfer): usual amount, known recipient,
    // one request in the last minute, 15:00 UTC, usual fee.
    let (s, c) = hour_features(15);
    let normal = RiskFeatures([0.3, 0.0, 2f32.ln(), s, c, 0.1, 0.0, 0.0, 0.0]);
    let score = model.score_bps(&normal).unwrap();
    assert!(score < APPROVE_AT_BPS, "normal: {score}");
    // Anomalous (the generator's "combined" type): an unlimited approval to a
    // new spender with a 2^12 amount spike, 60 requests in the last minute, 03:00 UTC.
    let (s, c) = hour_features(3);
    let anomalous = RiskFeatures([12.0, 1.0, 61f32.ln(), s, c, 0.0, 1.0, 1.0, 0.0]);
    let score = model.score_bps(&anomalous).unwrap();
    assert!(score >= DENY_AT_BPS, "anomalous: {score}");
}

/// The same, from decoded requests through a key's history.
#[test]
fn requests_through_a_history_score_as_expected() {
    let model = model();
    let mut history = RiskHistory::new();
    let start = DAY0 + 13 * HOUR;
    for i in 0..30u64 {
        let to = addr(1 + (i % 3) as u8);
        history.observe(&transfer(to, U256::from(ETH + i * (ETH / 50)), (30 + i % 3) * GWEI), start + i * 10 * MINUTE);
    }
    let now = start + 30 * 10 * MINUTE;
    let normal = transfer(addr(2), U256::from(ETH + ETH / 5), 31 * GWEI);
    let score = model.score_bps(&history.features(&normal, now)).unwrap();
    assert!(score < APPROVE_AT_BPS, "normal: {score}");

    // 03:00 the next day: a burst of 60 allowed requests in the current second and the 59 before...
    let burst = DAY0 + 27 * HOUR - 59 * SECOND;
    for i in 0..60u64 {
        history.observe(&transfer(addr(1), U256::from(ETH), 30 * GWEI), burst + i * SECOND);
    }
    // ...then 4096 ETH to a new recipient with an unlimited approval to a new spender.
    let mut anomalous = transfer(addr(0xee), U256::from(ETH) * U256::from(4096u64), 30 * GWEI);
    anomalous.movements.push(approval(addr(0x70), addr(0xef), U256::MAX));
    let features = history.features(&anomalous, DAY0 + 27 * HOUR);
    assert!(features.0[0] > 11.0 && features.0[1] == 1.0 && features.0[7] == 1.0, "{features:?}");
    assert!(close(features.0[2], 61f32.ln()), "{features:?}");
    let score = model.score_bps(&features).unwrap();
    assert!(score >= DENY_AT_BPS, "anomalous: {score}");
}

#[test]
fn scores_are_basis_points_of_the_probability() {
    let model = model();
    let card = card();
    for v in card["reference_vectors"].as_array().unwrap() {
        let values: Vec<f32> = v["features"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let features = RiskFeatures(values.try_into().unwrap());
        let p = model.probability(&features).unwrap();
        assert_eq!(model.score_bps(&features).unwrap(), (f64::from(p) * 10_000.0).round() as u16);
    }
}

// --- models that must be refused, and a few that must load ------------------------------------------

fn assert_invalid(result: Result<RiskModel, sentinel_policy::PolicyError>, what: &str) {
    match result {
        Ok(m) => panic!("{what}: loaded {m:?}"),
        Err(e) => assert_eq!(e.code, PolicyErrorCode::ModelInvalid, "{what}: {e}"),
    }
}

#[test]
fn truncated_or_garbage_models_are_refused() {
    for cut in [0, 1, 16, MODEL.len() / 3, MODEL.len() / 2, MODEL.len() - 1] {
        assert_invalid(RiskModel::load(&MODEL[..cut]), &format!("truncated at {cut}"));
    }
    assert_invalid(RiskModel::load(b"not an onnx model at all"), "text");
    assert_invalid(RiskModel::load(&[0xff; 256]), "0xff bytes");
    let mut flipped = MODEL.to_vec();
    for b in flipped.iter_mut().skip(40).step_by(7) {
        *b ^= 0x5a;
    }
    assert_invalid(RiskModel::load(&flipped), "bytes flipped");
    assert_invalid(RiskModel::load(&vec![0u8; 5 << 20]), "too large");
}

/// A minimal protobuf writer for hand-made ONNX models (shapes the committed model does not have).
mod onnx {
    fn varint(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    pub fn int(out: &mut Vec<u8>, field: u64, v: u64) {
        varint(out, field << 3);
        varint(out, v);
    }
    pub fn bytes(out: &mut Vec<u8>, field: u64, v: &[u8]) {
        varint(out, (field << 3) | 2);
        varint(out, v.len() as u64);
        out.extend_from_slice(v);
    }

    pub enum Dim {
        Value(u64),
        Param(&'static str),
    }

    /// ValueInfoProto of a float tensor.
    fn value_info(name: &str, dims: &[Dim]) -> Vec<u8> {
        let mut shape = Vec::new();
        for d in dims {
            let mut dim = Vec::new();
            match d {
                Dim::Value(v) => int(&mut dim, 1, *v),
                Dim::Param(p) => bytes(&mut dim, 2, p.as_bytes()),
            }
            bytes(&mut shape, 1, &dim);
        }
        let mut tensor = Vec::new();
        int(&mut tensor, 1, 1); // FLOAT
        bytes(&mut tensor, 2, &shape);
        let mut ty = Vec::new();
        bytes(&mut ty, 1, &tensor);
        let mut vi = Vec::new();
        bytes(&mut vi, 1, name.as_bytes());
        bytes(&mut vi, 2, &ty);
        vi
    }

    /// One node: (op_type, inputs, outputs, integer-list attributes, integer attributes).
    pub struct Node<'a> {
        pub op: &'a str,
        pub inputs: &'a [&'a str],
        pub outputs: &'a [&'a str],
        pub ints: &'a [(&'a str, &'a [i64])],
        pub int: &'a [(&'a str, i64)],
    }

    pub fn model(nodes: &[Node<'_>], input: &[Dim], output_name: &str, output: &[Dim]) -> Vec<u8> {
        let mut graph = Vec::new();
        for n in nodes {
            let mut node = Vec::new();
            for i in n.inputs {
                bytes(&mut node, 1, i.as_bytes());
            }
            for o in n.outputs {
                bytes(&mut node, 2, o.as_bytes());
            }
            bytes(&mut node, 3, n.outputs[0].as_bytes());
            bytes(&mut node, 4, n.op.as_bytes());
            for (name, values) in n.ints {
                let mut attr = Vec::new();
                bytes(&mut attr, 1, name.as_bytes());
                for v in *values {
                    int(&mut attr, 8, *v as u64);
                }
                int(&mut attr, 20, 7); // INTS
                bytes(&mut node, 5, &attr);
            }
            for (name, v) in n.int {
                let mut attr = Vec::new();
                bytes(&mut attr, 1, name.as_bytes());
                int(&mut attr, 3, *v as u64);
                int(&mut attr, 20, 2); // INT
                bytes(&mut node, 5, &attr);
            }
            bytes(&mut graph, 1, &node);
        }
        bytes(&mut graph, 2, b"test");
        bytes(&mut graph, 11, &value_info("features", input));
        bytes(&mut graph, 12, &value_info(output_name, output));
        let mut model = Vec::new();
        int(&mut model, 1, 7); // ir_version
        bytes(&mut model, 7, &graph);
        let mut opset = Vec::new();
        int(&mut opset, 2, 13);
        bytes(&mut model, 8, &opset);
        model
    }
}

use onnx::{Dim, Node};

/// `out = Reduce<op>(features, axis 1, keepdims)`: shape [1, 1].
fn reduce_model(op: &str) -> Vec<u8> {
    onnx::model(
        &[Node { op, inputs: &["features"], outputs: &["risk"], ints: &[("axes", &[1])], int: &[("keepdims", 1)] }],
        &[Dim::Param("N"), Dim::Value(9)],
        "risk",
        &[Dim::Param("N"), Dim::Value(1)],
    )
}

#[test]
fn hand_made_models_with_a_fitting_shape_load_and_score() {
    // [1, 1]: the largest feature.
    let max = RiskModel::load(&reduce_model("ReduceMax")).expect("[N, 9] -> [N, 1] loads");
    let mut f = RiskFeatures([0.0; FEATURE_COUNT]);
    f.0[4] = 0.25;
    assert_eq!(max.score_bps(&f).unwrap(), 2500);
    f.0[4] = 0.123_456;
    assert_eq!(max.score_bps(&f).unwrap(), 1235, "rounded to nearest");
    // Out of range or NaN: an error, never a panic or a clamped score.
    f.0[4] = 1.5;
    let e = max.score_bps(&f).unwrap_err();
    assert_eq!(e.code, PolicyErrorCode::ModelInvalid, "{e}");
    let sqrt_min = onnx::model(
        &[
            Node {
                op: "ReduceMin",
                inputs: &["features"],
                outputs: &["m"],
                ints: &[("axes", &[1])],
                int: &[("keepdims", 1)],
            },
            Node { op: "Sqrt", inputs: &["m"], outputs: &["risk"], ints: &[], int: &[] },
        ],
        &[Dim::Value(1), Dim::Value(9)],
        "risk",
        &[Dim::Value(1), Dim::Value(1)],
    );
    let sqrt_min = RiskModel::load(&sqrt_min).expect("loads (sqrt(0) = 0 at load)");
    let mut f = RiskFeatures([0.5; FEATURE_COUNT]);
    assert_eq!(sqrt_min.score_bps(&f).unwrap(), 7071);
    f.0[0] = -1.0;
    assert_eq!(sqrt_min.score_bps(&f).unwrap_err().code, PolicyErrorCode::ModelInvalid, "NaN");

    // [1, 2]: two classes, the second (positive) one is read.
    let two = onnx::model(
        &[
            Node {
                op: "ReduceMin",
                inputs: &["features"],
                outputs: &["lo"],
                ints: &[("axes", &[1])],
                int: &[("keepdims", 1)],
            },
            Node {
                op: "ReduceMax",
                inputs: &["features"],
                outputs: &["hi"],
                ints: &[("axes", &[1])],
                int: &[("keepdims", 1)],
            },
            Node { op: "Concat", inputs: &["lo", "hi"], outputs: &["risk"], ints: &[], int: &[("axis", 1)] },
        ],
        &[Dim::Param("N"), Dim::Value(9)],
        "risk",
        &[Dim::Param("N"), Dim::Value(2)],
    );
    let two = RiskModel::load(&two).expect("[N, 2] loads");
    let mut f = RiskFeatures([0.1; FEATURE_COUNT]);
    f.0[8] = 0.9;
    assert_eq!(two.score_bps(&f).unwrap(), 9000);

    // [1]: a flat probability.
    let flat = onnx::model(
        &[Node {
            op: "ReduceMax",
            inputs: &["features"],
            outputs: &["risk"],
            ints: &[("axes", &[0, 1])],
            int: &[("keepdims", 0)],
        }],
        &[Dim::Value(1), Dim::Value(9)],
        "risk",
        &[],
    );
    // keepdims = 0 over both axes gives a scalar []: not one of the accepted shapes.
    assert_invalid(RiskModel::load(&flat), "scalar output");
    let flat = onnx::model(
        &[Node {
            op: "ReduceMax",
            inputs: &["features"],
            outputs: &["risk"],
            ints: &[("axes", &[1])],
            int: &[("keepdims", 0)],
        }],
        &[Dim::Value(1), Dim::Value(9)],
        "risk",
        &[Dim::Value(1)],
    );
    let flat = RiskModel::load(&flat).expect("[1] loads");
    assert_eq!(flat.score_bps(&RiskFeatures([0.75; FEATURE_COUNT])).unwrap(), 7500);
}

#[test]
fn models_whose_shapes_do_not_fit_are_refused() {
    // Input of 5 features.
    let five = onnx::model(
        &[Node {
            op: "ReduceMax",
            inputs: &["features"],
            outputs: &["risk"],
            ints: &[("axes", &[1])],
            int: &[("keepdims", 1)],
        }],
        &[Dim::Value(1), Dim::Value(5)],
        "risk",
        &[Dim::Value(1), Dim::Value(1)],
    );
    let e = RiskModel::load(&five).unwrap_err();
    assert_eq!(e.code, PolicyErrorCode::ModelInvalid);
    assert!(e.message.contains("input shape"), "{e}");
    // Input of rank 1.
    let flat_input = onnx::model(
        &[Node {
            op: "ReduceMax",
            inputs: &["features"],
            outputs: &["risk"],
            ints: &[("axes", &[0])],
            int: &[("keepdims", 1)],
        }],
        &[Dim::Value(9)],
        "risk",
        &[Dim::Value(1)],
    );
    assert_invalid(RiskModel::load(&flat_input), "rank-1 input");
    // Output of nine values (the features themselves).
    let nine = onnx::model(
        &[Node { op: "Sigmoid", inputs: &["features"], outputs: &["risk"], ints: &[], int: &[] }],
        &[Dim::Param("N"), Dim::Value(9)],
        "risk",
        &[Dim::Param("N"), Dim::Value(9)],
    );
    let e = RiskModel::load(&nine).unwrap_err();
    assert_eq!(e.code, PolicyErrorCode::ModelInvalid);
    assert!(e.message.contains("output shape"), "{e}");
    // Three classes.
    let three = onnx::model(
        &[
            Node {
                op: "ReduceMin",
                inputs: &["features"],
                outputs: &["lo"],
                ints: &[("axes", &[1])],
                int: &[("keepdims", 1)],
            },
            Node {
                op: "ReduceMax",
                inputs: &["features"],
                outputs: &["hi"],
                ints: &[("axes", &[1])],
                int: &[("keepdims", 1)],
            },
            Node { op: "Concat", inputs: &["lo", "hi", "hi"], outputs: &["risk"], ints: &[], int: &[("axis", 1)] },
        ],
        &[Dim::Param("N"), Dim::Value(9)],
        "risk",
        &[Dim::Param("N"), Dim::Value(3)],
    );
    assert_invalid(RiskModel::load(&three), "three classes");
    // A model whose output is not a probability on all-zero features (log(0) = -inf).
    let log = onnx::model(
        &[
            Node {
                op: "ReduceMax",
                inputs: &["features"],
                outputs: &["m"],
                ints: &[("axes", &[1])],
                int: &[("keepdims", 1)],
            },
            Node { op: "Log", inputs: &["m"], outputs: &["risk"], ints: &[], int: &[] },
        ],
        &[Dim::Value(1), Dim::Value(9)],
        "risk",
        &[Dim::Value(1), Dim::Value(1)],
    );
    assert_invalid(RiskModel::load(&log), "-inf at load");
}

// --- features --------------------------------------------------------------------------------------

#[test]
fn features_of_a_fresh_history() {
    let history = RiskHistory::new();
    let now = DAY0 + 15 * HOUR + 30 * MINUTE; // 15:30 UTC: hour 15
    let (s, c) = hour_features(15);
    // No baseline: amount and fee ratios 0; every counterparty is new; no velocity.
    let f = history.features(&transfer(addr(1), U256::from(ETH), 30 * GWEI), now);
    assert_features(f, [0.0, 1.0, 0.0, s, c, 0.0, 0.0, 0.0, 0.0]);
    // A request without movements (a contract call): no counterparty, unknown calldata.
    let mut call = tx();
    call.destination = Some(addr(9));
    call.call = CallKind::Unknown;
    call.selector = Some([1, 2, 3, 4]);
    let (s0, c0) = hour_features(0);
    assert_features(history.features(&call, DAY0 + 59 * MINUTE), [0.0, 0.0, 0.0, s0, c0, 0.0, 0.0, 0.0, 1.0]);
    assert_eq!(history.velocity(now), 0);
    assert_eq!(history.amount_ewma(), None);
    assert_eq!(history.fee_ewma(), None);
    assert_eq!(history.counterparty_count(), 0);
}

#[test]
fn hour_features_follow_the_utc_hour() {
    let history = RiskHistory::new();
    let r = tx();
    for hour in 0..24u32 {
        let (s, c) = hour_features(hour);
        for offset in [0, 59 * MINUTE + 59 * SECOND] {
            let f = history.features(&r, DAY0 + 3 * 24 * HOUR + u64::from(hour) * HOUR + offset);
            assert!(close(f.0[3], s) && close(f.0[4], c), "hour {hour}: {:?}", f.0);
        }
    }
    let f = history.features(&r, DAY0 + 6 * HOUR);
    assert!(close(f.0[3], 1.0) && f.0[4].abs() < 1e-6, "06:00 -> sin 1, cos 0");
}

#[test]
fn amount_ewma_initialises_then_moves_by_a_tenth() {
    let mut history = RiskHistory::new();
    let t = DAY0 + 12 * HOUR;
    // log2(1 + (2^10 - 1)) = 10 initialises the mean.
    history.observe(&transfer(addr(1), U256::from(1023u64), 100), t);
    assert_eq!(history.amount_ewma(), Some(10.0));
    // Then 20: 10 + 0.1 * (20 - 10) = 11.
    history.observe(&transfer(addr(1), U256::from((1u64 << 20) - 1), 100), t + SECOND);
    assert!((history.amount_ewma().unwrap() - 11.0).abs() < 1e-12);
    // A request of 2^12 - 1: ratio 12 - 11 = 1; of 2^8 - 1: 8 - 11 = -3.
    let f = history.features(&transfer(addr(1), U256::from(4095u64), 100), t + 2 * SECOND);
    assert!(close(f.0[0], 1.0), "{:?}", f.0);
    let f = history.features(&transfer(addr(1), U256::from(255u64), 100), t + 2 * SECOND);
    assert!(close(f.0[0], -3.0), "{:?}", f.0);
    // The largest movement counts: 2^30 - 1 beside 2^4 - 1.
    let mut r = transfer(addr(1), U256::from(15u64), 100);
    r.movements.push(Movement {
        asset: Asset::Erc20 { chain_id: Some(1), token: addr(0x70) },
        amount: U256::from((1u64 << 30) - 1),
        kind: MovementKind::Transfer,
        counterparty: Some(addr(1)),
    });
    assert!(close(history.features(&r, t).0[0], 19.0));
    // Clamped to 20 (a 2^200 spike), and to -20.
    let f = history.features(&transfer(addr(1), U256::from(1u8) << 200, 100), t);
    assert_eq!(f.0[0], 20.0);
    let mut big = RiskHistory::new();
    big.observe(&transfer(addr(1), U256::from(1u8) << 120, 100), t);
    assert_eq!(big.features(&transfer(addr(1), U256::from(1u8), 100), t).0[0], -20.0);
    // A request without movements neither has a ratio nor moves the mean.
    let mut call = tx();
    call.call = CallKind::Unknown;
    assert_eq!(history.features(&call, t).0[0], 0.0);
    history.observe(&call, t);
    assert!((history.amount_ewma().unwrap() - 11.0).abs() < 1e-12);
}

#[test]
fn unlimited_approvals_are_flagged_and_are_not_amounts() {
    let mut history = RiskHistory::new();
    let t = DAY0 + 12 * HOUR;
    history.observe(&transfer(addr(1), U256::from(1023u64), 100), t);
    // Permit2's unlimited allowance, type(uint160).max, and anything above it.
    let unlimited_threshold = (U256::from(1u8) << 160) - U256::from(1u8);
    for (amount, unlimited) in
        [(U256::MAX, true), (unlimited_threshold, true), (unlimited_threshold - U256::from(1u8), false)]
    {
        let mut r = tx();
        r.call = CallKind::Erc20Approve;
        r.destination = Some(addr(0x70));
        r.token = Some(addr(0x70));
        r.movements.push(approval(addr(0x70), addr(1), amount));
        r.max_fee_per_gas = Some(U256::from(100u64));
        let f = history.features(&r, t);
        assert_eq!(f.0[6], 1.0, "is_approval");
        assert_eq!(f.0[7], if unlimited { 1.0 } else { 0.0 }, "unlimited_approval for {amount}");
        if unlimited {
            // Left out of the amount: no other movement, no ratio.
            assert_eq!(f.0[0], 0.0);
        } else {
            assert!(f.0[0] > 10.0, "2^160 - 2 is an amount (a large ratio)");
        }
        assert_eq!(f.0[1], 0.0, "known spender");
        assert_eq!(f.0[8], 0.0, "approve is known calldata");
    }
    // Observing an unlimited approval does not move the amount mean.
    let mut r = tx();
    r.movements.push(approval(addr(0x70), addr(1), U256::MAX));
    history.observe(&r, t);
    assert_eq!(history.amount_ewma(), Some(10.0));
    // A bounded approval is an amount.
    let mut r = tx();
    r.movements.push(approval(addr(0x70), addr(1), U256::from((1u64 << 20) - 1)));
    history.observe(&r, t);
    assert!((history.amount_ewma().unwrap() - 11.0).abs() < 1e-12);
}

#[test]
fn fee_ratio_against_the_fee_ewma() {
    let mut history = RiskHistory::new();
    let t = DAY0 + 12 * HOUR;
    // A fee but no fee history yet: 0.
    assert_eq!(history.features(&transfer(addr(1), U256::from(1u8), 99), t).0[5], 0.0);
    history.observe(&transfer(addr(1), U256::from(1u8), 99), t);
    assert_eq!(history.fee_ewma(), Some(99.0));
    // ln((199 + 1) / (99 + 1)) = ln 2.
    let f = history.features(&transfer(addr(1), U256::from(1u8), 199), t);
    assert!(close(f.0[5], std::f32::consts::LN_2), "{:?}", f.0);
    // 99 + 0.1 * (1099 - 99) = 199.
    history.observe(&transfer(addr(1), U256::from(1u8), 1099), t);
    assert!((history.fee_ewma().unwrap() - 199.0).abs() < 1e-9);
    let f = history.features(&transfer(addr(1), U256::from(1u8), 49), t);
    assert!(close(f.0[5], (50f64 / 200.0).ln() as f32), "{:?}", f.0);
    // No fee (typed data, messages): 0, and the mean does not move.
    let mut permit = PolicyRequest::bare(OpKind::TypedData, Caller { principal: "p", key_id: "k", key_label: "l" });
    permit.movements.push(approval(addr(0x70), addr(1), U256::from(5u8)));
    assert_eq!(history.features(&permit, t).0[5], 0.0);
    history.observe(&permit, t);
    assert!((history.fee_ewma().unwrap() - 199.0).abs() < 1e-9);
    // A fee near 2^256: finite, clamped.
    let f = history.features(&transfer(addr(1), U256::from(1u8), 0).tap_fee(U256::MAX), t);
    assert_eq!(f.0[5], 20.0);
}

trait TapFee {
    fn tap_fee(self, fee: U256) -> Self;
}
impl TapFee for PolicyRequest {
    fn tap_fee(mut self, fee: U256) -> Self {
        self.max_fee_per_gas = Some(fee);
        self
    }
}

#[test]
fn new_counterparty_until_observed() {
    let mut history = RiskHistory::new();
    let t = DAY0 + 12 * HOUR;
    let to_a = transfer(addr(0xa), U256::from(5u8), 100);
    assert_eq!(history.features(&to_a, t).0[1], 1.0);
    history.observe(&to_a, t);
    assert!(history.knows_counterparty(&addr(0xa)));
    assert_eq!(history.features(&to_a, t).0[1], 0.0);
    // Any unseen one among several makes it new.
    let mut both = transfer(addr(0xa), U256::from(5u8), 100);
    both.movements.push(approval(addr(0x70), addr(0xb), U256::from(5u8)));
    assert_eq!(history.features(&both, t).0[1], 1.0);
    history.observe(&both, t);
    assert_eq!(history.features(&both, t).0[1], 0.0);
    assert_eq!(history.counterparty_count(), 2);
}

#[test]
fn counterparty_set_is_bounded_and_then_conservative() {
    let mut history = RiskHistory::new();
    let t = DAY0;
    for i in 0..4096u32 {
        let mut bytes = [0u8; 20];
        bytes[16..].copy_from_slice(&i.to_be_bytes());
        history.observe(&transfer(Address::from(bytes), U256::from(5u8), 100), t);
    }
    assert_eq!(history.counterparty_count(), 4096);
    let newcomer = transfer(addr(0xcc), U256::from(5u8), 100);
    history.observe(&newcomer, t);
    assert_eq!(history.counterparty_count(), 4096, "full: not remembered");
    assert_eq!(history.features(&newcomer, t).0[1], 1.0, "so still new");
    let mut known = [0u8; 20];
    known[16..].copy_from_slice(&7u32.to_be_bytes());
    assert_eq!(history.features(&transfer(Address::from(known), U256::from(5u8), 100), t).0[1], 0.0);
}

#[test]
fn velocity_counts_the_last_sixty_seconds() {
    let mut history = RiskHistory::new();
    let t0 = DAY0 + 12 * HOUR; // whole second
    let r = transfer(addr(1), U256::from(5u8), 100);
    history.observe(&r, t0);
    history.observe(&r, t0 + SECOND / 2);
    history.observe(&r, t0 + 30 * SECOND);
    let v = |h: &RiskHistory, now: u64| h.features(&r, now).0[2];
    assert_eq!(history.velocity(t0 + 30 * SECOND), 3);
    assert!(close(v(&history, t0 + 30 * SECOND), 4f32.ln()));
    // Second t0 is within the window up to t0 + 59.999999 s...
    assert_eq!(history.velocity(t0 + 60 * SECOND - 1), 3);
    // ...and expires at t0 + 60 s.
    assert_eq!(history.velocity(t0 + 60 * SECOND), 1);
    assert!(close(v(&history, t0 + 60 * SECOND), 2f32.ln()));
    assert_eq!(history.velocity(t0 + 90 * SECOND - 1), 1);
    assert_eq!(history.velocity(t0 + 90 * SECOND), 0);
    assert_eq!(v(&history, t0 + 90 * SECOND), 0.0);
    // A bucket is reused 60 s later: it restarts at the new second.
    history.observe(&r, t0 + 60 * SECOND);
    assert_eq!(history.velocity(t0 + 60 * SECOND), 2);
    // Long gaps: everything expired.
    assert_eq!(history.velocity(t0 + 10 * HOUR), 0);
    // Many requests in one second.
    let mut burst = RiskHistory::new();
    for _ in 0..100 {
        burst.observe(&r, t0);
    }
    assert!(close(burst.features(&r, t0).0[2], 101f32.ln()));
}

#[test]
fn flags_for_approvals_and_calldata() {
    let history = RiskHistory::new();
    let t = DAY0;
    let mut r = tx();
    for (call, unknown) in [
        (CallKind::None, false),
        (CallKind::Creation, false),
        (CallKind::Erc20Transfer, false),
        (CallKind::Erc20TransferFrom, false),
        (CallKind::Erc20Approve, false),
        (CallKind::Unknown, true),
    ] {
        r.call = call;
        assert_eq!(history.features(&r, t).0[8], if unknown { 1.0 } else { 0.0 }, "{call:?}");
    }
    let f = history.features(&transfer(addr(1), U256::from(5u8), 1), t);
    assert_eq!((f.0[6], f.0[7]), (0.0, 0.0), "a transfer is no approval");
}

#[test]
fn features_are_always_finite_and_bounded() {
    let mut history = RiskHistory::new();
    let extremes = [U256::ZERO, U256::from(1u8), U256::MAX, U256::from(1u8) << 255, U256::from(u64::MAX)];
    let times = [0u64, 1, DAY0, u64::MAX];
    for amount in extremes {
        for fee in extremes {
            for now in times {
                let mut r = transfer(addr(1), amount, 0);
                r.max_fee_per_gas = Some(fee);
                r.movements.push(approval(addr(2), addr(3), amount));
                let f = history.features(&r, now);
                assert!(f.0.iter().all(|x| x.is_finite() && x.abs() <= 20.0), "{f:?}");
                history.observe(&r, now);
            }
        }
    }
}
