//! EIP-712 (`eth_signTypedData_v4`) hashing.
//!
//! The hashing itself is alloy-dyn-abi's `TypedData`. What this module adds is
//! a refusal to hash ambiguous input: implementations disagree on where the
//! domain's type comes from (MetaMask's eth-sig-util uses the declared
//! `types.EIP712Domain`, in declared order, and ignores undeclared domain
//! keys; ethers and alloy derive it from the keys present in `domain`). When
//! those two readings differ, the same JSON would be signed as different
//! hashes by different wallets, and a policy engine reading `domain` could be
//! shown a chain id or contract that is not actually signed. So the declared
//! `EIP712Domain` must be present and must be exactly the canonical type of
//! the fields present in `domain`; then every implementation agrees.
use alloy_dyn_abi::TypedData;

use crate::error::{code, Error};

const DOMAIN_FIELDS: [&str; 5] = ["name", "version", "chainId", "verifyingContract", "salt"];

fn invalid(message: impl Into<String>) -> Error {
    Error::new(code::INVALID_TYPED_DATA, message)
}

fn domain_mismatch(message: impl Into<String>) -> Error {
    Error::new(code::TYPED_DATA_DOMAIN_MISMATCH, message)
}

/// The EIP-712 signing hash of an `eth_signTypedData_v4` JSON document
/// (`types`, `primaryType`, `domain`, `message`).
pub fn hash_typed_data(json: &str) -> Result<[u8; 32], Error> {
    let parse = |text: &str| {
        serde_json::from_str::<serde_json::Value>(text)
            .map_err(|err| invalid(format!("typedData: not valid JSON: {err}")))
    };
    let mut value = parse(json)?;
    // Some dapps send the document as a JSON string holding the JSON (ethers
    // and viem tolerate it); unwrap exactly one level.
    if let serde_json::Value::String(inner) = &value {
        value = parse(inner)?;
    }
    let object = value.as_object().ok_or_else(|| invalid("typedData: expected a JSON object"))?;
    for key in ["types", "primaryType", "domain", "message"] {
        if !object.contains_key(key) {
            return Err(invalid(format!("typedData: missing `{key}`")));
        }
    }
    let domain = object
        .get("domain")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| invalid("domain: expected a JSON object"))?;
    if let Some(unknown) = domain.keys().find(|key| !DOMAIN_FIELDS.contains(&key.as_str())) {
        return Err(domain_mismatch(format!(
            "domain.{unknown}: not an EIP-712 domain field (name, version, chainId, verifyingContract, salt)"
        )));
    }

    let typed: TypedData = serde_json::from_value(value).map_err(|err| invalid(format!("typedData: {err}")))?;

    let declared = typed
        .resolver
        .encode_type("EIP712Domain")
        .map_err(|err| domain_mismatch(format!("types.EIP712Domain: missing or invalid ({err})")))?;
    let present = typed.domain.encode_type();
    if declared != present {
        return Err(domain_mismatch(format!(
            "types.EIP712Domain: declares `{declared}` but the domain object has `{present}` \
             (fields must match the domain keys, in canonical order)"
        )));
    }

    typed
        .eip712_signing_hash()
        .map(|hash| hash.0)
        .map_err(|err| Error::new(code::TYPED_DATA_NOT_HASHABLE, format!("typedData: cannot hash: {err}")))
}
