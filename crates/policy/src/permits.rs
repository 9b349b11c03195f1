//! EIP-712 typed data -> `PolicyRequest` (EIP-2612, DAI and Uniswap Permit2
//! permits), and the EIP-191 personal message request.
//!
//! The document is read only after `sentinel_eth::hash_typed_data` accepted
//! it, and it is read through the very values that hash was computed over
//! (alloy-dyn-abi's `TypedData`, its domain and its coerced message), so what
//! the policy sees (chain id, verifying contract, amounts, spenders) is what
//! the signature commits to: `"chainId": "0x1"` and `"chainId": 1` are the
//! same chain here because they hash the same.
//!
//! A permit is recognised by its `primaryType` and the exact type definitions
//! (`encodeType`) of that type and its dependencies. A document whose
//! `primaryType` is a permit name (`Permit`, `PermitSingle`, `PermitBatch`,
//! `PermitTransferFrom`, `PermitBatchTransferFrom`,
//! `PermitWitnessTransferFrom`, `PermitBatchWitnessTransferFrom`) but whose
//! types are anything else is refused (`POLICY_REQUEST_INVALID`), never
//! treated as "not a permit": a token contract checks only the hash, so a
//! near-miss layout could still be an approval somewhere. Any other typed
//! data moves nothing as far as the policy can tell (chain and contract rules
//! still apply).
use alloy_dyn_abi::{DynSolValue, TypedData};
use sentinel_eth::{Address, U256};

use crate::error::{PolicyError, PolicyErrorCode};
use crate::request::{Asset, Caller, Movement, MovementKind, OpKind, PolicyRequest, MAX_MOVEMENTS};

/// EIP-2612 `permit` (USDC, Uniswap V2 pairs, OpenZeppelin `ERC20Permit`).
const EIP2612_PERMIT: &str = "Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)";
/// DAI's pre-EIP-2612 `permit`: `allowed` grants an unlimited allowance or revokes it.
const DAI_PERMIT: &str = "Permit(address holder,address spender,uint256 nonce,uint256 expiry,bool allowed)";
/// Permit2 `AllowanceTransfer.permit` (single).
const PERMIT2_SINGLE: &str = "PermitSingle(PermitDetails details,address spender,uint256 sigDeadline)\
PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)";
/// Permit2 `AllowanceTransfer.permit` (batch).
const PERMIT2_BATCH: &str = "PermitBatch(PermitDetails[] details,address spender,uint256 sigDeadline)\
PermitDetails(address token,uint160 amount,uint48 expiration,uint48 nonce)";
/// Permit2 `SignatureTransfer.permitTransferFrom`.
const PERMIT2_TRANSFER: &str =
    "PermitTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline)\
TokenPermissions(address token,uint256 amount)";
/// Permit2 `SignatureTransfer.permitTransferFrom` (batch).
const PERMIT2_BATCH_TRANSFER: &str =
    "PermitBatchTransferFrom(TokenPermissions[] permitted,address spender,uint256 nonce,uint256 deadline)\
TokenPermissions(address token,uint256 amount)";
/// Permit2's `TokenPermissions` type, which the witness forms must use unchanged.
const TOKEN_PERMISSIONS: &str = "TokenPermissions(address token,uint256 amount)";

/// The `primaryType` names that are permits (a document using one must be one of the known layouts).
const PERMIT_NAMES: [&str; 7] = [
    "Permit",
    "PermitSingle",
    "PermitBatch",
    "PermitTransferFrom",
    "PermitBatchTransferFrom",
    "PermitWitnessTransferFrom",
    "PermitBatchWitnessTransferFrom",
];

/// Which permit layout a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PermitForm {
    Eip2612,
    Dai,
    Single,
    Batch,
    /// `PermitTransferFrom` or `PermitWitnessTransferFrom`.
    Transfer,
    /// `PermitBatchTransferFrom` or `PermitBatchWitnessTransferFrom`.
    BatchTransfer,
}

fn invalid(message: impl Into<String>) -> PolicyError {
    PolicyError::new(PolicyErrorCode::RequestInvalid, message)
}

/// The first four properties of the Permit2 witness forms, then at least one witness property.
fn witness_form(typed: &TypedData, batch: bool) -> Result<bool, PolicyError> {
    let defs = typed.resolver.linearize(&typed.primary_type).map_err(|err| invalid(format!("typed data: {err}")))?;
    let Some(primary) = defs.first() else { return Ok(false) };
    let permitted = if batch { "TokenPermissions[]" } else { "TokenPermissions" };
    let prefix = [(permitted, "permitted"), ("address", "spender"), ("uint256", "nonce"), ("uint256", "deadline")];
    let props = primary.props();
    let prefix_ok = props.len() > prefix.len()
        && props.iter().zip(prefix).all(|(prop, (ty, name))| prop.type_name() == ty && prop.name() == name);
    let token_permissions_ok =
        defs.iter().any(|def| def.type_name() == "TokenPermissions" && def.eip712_encode_type() == TOKEN_PERMISSIONS);
    Ok(prefix_ok && token_permissions_ok)
}

/// `None` for typed data that is not a permit; an error for a permit name with another layout.
fn permit_form(typed: &TypedData) -> Result<Option<PermitForm>, PolicyError> {
    let name = typed.primary_type.as_str();
    if !PERMIT_NAMES.contains(&name) {
        return Ok(None);
    }
    let encoded = typed.encode_type().map_err(|err| invalid(format!("typed data: {err}")))?;
    let form = match name {
        "Permit" if encoded == EIP2612_PERMIT => Some(PermitForm::Eip2612),
        "Permit" if encoded == DAI_PERMIT => Some(PermitForm::Dai),
        "PermitSingle" if encoded == PERMIT2_SINGLE => Some(PermitForm::Single),
        "PermitBatch" if encoded == PERMIT2_BATCH => Some(PermitForm::Batch),
        "PermitTransferFrom" if encoded == PERMIT2_TRANSFER => Some(PermitForm::Transfer),
        "PermitBatchTransferFrom" if encoded == PERMIT2_BATCH_TRANSFER => Some(PermitForm::BatchTransfer),
        "PermitWitnessTransferFrom" if witness_form(typed, false)? => Some(PermitForm::Transfer),
        "PermitBatchWitnessTransferFrom" if witness_form(typed, true)? => Some(PermitForm::BatchTransfer),
        _ => None,
    };
    let expected = match name {
        "Permit" => format!("`{EIP2612_PERMIT}` (EIP-2612) or `{DAI_PERMIT}` (DAI)"),
        "PermitSingle" => format!("`{PERMIT2_SINGLE}`"),
        "PermitBatch" => format!("`{PERMIT2_BATCH}`"),
        "PermitTransferFrom" => format!("`{PERMIT2_TRANSFER}`"),
        "PermitBatchTransferFrom" => format!("`{PERMIT2_BATCH_TRANSFER}`"),
        "PermitWitnessTransferFrom" => format!(
            "`PermitWitnessTransferFrom(TokenPermissions permitted,address spender,uint256 nonce,uint256 deadline,<witness>)` \
             with `{TOKEN_PERMISSIONS}`"
        ),
        _ => format!(
            "`PermitBatchWitnessTransferFrom(TokenPermissions[] permitted,address spender,uint256 nonce,uint256 deadline,<witness>)` \
             with `{TOKEN_PERMISSIONS}`"
        ),
    };
    match form {
        Some(form) => Ok(Some(form)),
        None => Err(invalid(format!(
            "typed data: primaryType `{name}` is a permit, but its type is `{encoded}`; expected {expected}"
        ))),
    }
}

/// A struct member by name.
fn field<'a>(value: &'a DynSolValue, name: &str) -> Option<&'a DynSolValue> {
    let (_, names, values) = value.as_custom_struct()?;
    names.iter().zip(values).find(|(n, _)| n.as_str() == name).map(|(_, v)| v)
}

fn address_at(value: &DynSolValue, name: &str, path: &str) -> Result<Address, PolicyError> {
    field(value, name)
        .and_then(DynSolValue::as_address)
        .ok_or_else(|| invalid(format!("{path}.{name}: expected an address")))
}

fn uint_at(value: &DynSolValue, name: &str, path: &str) -> Result<U256, PolicyError> {
    field(value, name)
        .and_then(DynSolValue::as_uint)
        .map(|(v, _)| v)
        .ok_or_else(|| invalid(format!("{path}.{name}: expected an unsigned integer")))
}

fn bool_at(value: &DynSolValue, name: &str, path: &str) -> Result<bool, PolicyError> {
    field(value, name).and_then(DynSolValue::as_bool).ok_or_else(|| invalid(format!("{path}.{name}: expected a bool")))
}

fn array_at<'a>(value: &'a DynSolValue, name: &str, path: &str) -> Result<&'a [DynSolValue], PolicyError> {
    let items = field(value, name)
        .and_then(DynSolValue::as_array)
        .ok_or_else(|| invalid(format!("{path}.{name}: expected an array")))?;
    if items.len() > MAX_MOVEMENTS {
        return Err(invalid(format!(
            "{path}.{name}: {} permits exceed the limit of {MAX_MOVEMENTS} per request",
            items.len()
        )));
    }
    Ok(items)
}

fn struct_at<'a>(value: &'a DynSolValue, name: &str, path: &str) -> Result<&'a DynSolValue, PolicyError> {
    field(value, name)
        .filter(|v| v.as_custom_struct().is_some())
        .ok_or_else(|| invalid(format!("{path}.{name}: expected a struct")))
}

/// (token, amount, counterparty, kind) of every permit in a recognised document.
fn permit_movements(
    form: PermitForm,
    message: &DynSolValue,
    verifying_contract: Option<Address>,
) -> Result<Vec<(Address, U256, Address, MovementKind)>, PolicyError> {
    const M: &str = "message";
    let approval = MovementKind::Approval;
    Ok(match form {
        PermitForm::Eip2612 | PermitForm::Dai => {
            let token = verifying_contract.ok_or_else(|| {
                invalid("domain.verifyingContract: required for a `Permit` (it names the token being approved)")
            })?;
            let spender = address_at(message, "spender", M)?;
            let amount = if form == PermitForm::Eip2612 {
                uint_at(message, "value", M)?
            } else if bool_at(message, "allowed", M)? {
                // DAI sets the allowance to uint256 max when `allowed`.
                U256::MAX
            } else {
                U256::ZERO
            };
            vec![(token, amount, spender, approval)]
        }
        PermitForm::Single => {
            let details = struct_at(message, "details", M)?;
            let spender = address_at(message, "spender", M)?;
            let path = "message.details";
            vec![(address_at(details, "token", path)?, uint_at(details, "amount", path)?, spender, approval)]
        }
        PermitForm::Batch => {
            let spender = address_at(message, "spender", M)?;
            let details = array_at(message, "details", M)?;
            let mut out = Vec::with_capacity(details.len());
            for (i, detail) in details.iter().enumerate() {
                let path = format!("message.details[{i}]");
                out.push((address_at(detail, "token", &path)?, uint_at(detail, "amount", &path)?, spender, approval));
            }
            out
        }
        PermitForm::Transfer => {
            // The spender pulls the tokens with this signature: a transfer, to the spender.
            let permitted = struct_at(message, "permitted", M)?;
            let spender = address_at(message, "spender", M)?;
            let path = "message.permitted";
            vec![(
                address_at(permitted, "token", path)?,
                uint_at(permitted, "amount", path)?,
                spender,
                MovementKind::Transfer,
            )]
        }
        PermitForm::BatchTransfer => {
            let spender = address_at(message, "spender", M)?;
            let permitted = array_at(message, "permitted", M)?;
            let mut out = Vec::with_capacity(permitted.len());
            for (i, item) in permitted.iter().enumerate() {
                let path = format!("message.permitted[{i}]");
                out.push((
                    address_at(item, "token", &path)?,
                    uint_at(item, "amount", &path)?,
                    spender,
                    MovementKind::Transfer,
                ));
            }
            out
        }
    })
}

impl PolicyRequest {
    /// What `eth_signTypedData_v4` JSON approves, on which chain and contract.
    ///
    /// Refused (`POLICY_REQUEST_INVALID`) when `sentinel_eth::hash_typed_data`
    /// refuses the document, when `domain.chainId` does not fit in 64 bits,
    /// when a permit-named `primaryType` has another layout, when an EIP-2612
    /// or DAI `Permit` has no `verifyingContract`, and when a Permit2 batch
    /// names more than [`MAX_MOVEMENTS`] tokens.
    pub fn from_typed_data(caller: Caller<'_>, json: &str) -> Result<PolicyRequest, PolicyError> {
        // Only documents the signer would hash (unambiguous domain, coercible message).
        sentinel_eth::hash_typed_data(json).map_err(|err| invalid(format!("typed data: {err}")))?;

        // The same reading as `hash_typed_data`: one level of string unwrapping, then alloy's TypedData.
        let parse = |text: &str| {
            serde_json::from_str::<serde_json::Value>(text).map_err(|err| invalid(format!("typed data: {err}")))
        };
        let mut value = parse(json)?;
        if let serde_json::Value::String(inner) = &value {
            value = parse(inner)?;
        }
        let typed: TypedData = serde_json::from_value(value).map_err(|err| invalid(format!("typed data: {err}")))?;

        let mut request = PolicyRequest::bare(OpKind::TypedData, caller);
        let chain_id = match typed.domain.chain_id {
            None => None,
            Some(id) => Some(
                u64::try_from(id)
                    .map_err(|_| invalid(format!("domain.chainId: {id} does not fit in 64 bits (no such chain)")))?,
            ),
        };
        let unprotected = matches!(chain_id, None | Some(0));
        let asset_chain = if unprotected { None } else { chain_id };
        request.chain_id = chain_id;
        request.unprotected = unprotected;
        request.destination = typed.domain.verifying_contract;

        let Some(form) = permit_form(&typed)? else { return Ok(request) };
        let message = typed.coerce().map_err(|err| invalid(format!("typed data: message: {err}")))?;
        let permits = permit_movements(form, &message, typed.domain.verifying_contract)?;

        let first_token = permits.first().map(|p| p.0);
        if first_token.is_some() && permits.iter().all(|p| Some(p.0) == first_token) {
            request.token = first_token;
        }
        request.movements = permits
            .into_iter()
            .map(|(token, amount, counterparty, kind)| Movement {
                asset: Asset::Erc20 { chain_id: asset_chain, token },
                amount,
                kind,
                counterparty: Some(counterparty),
            })
            .collect();
        Ok(request)
    }

    /// A `sign_personal_message` (EIP-191) request: no chain, no destination, no amounts.
    pub fn personal_message(caller: Caller<'_>) -> PolicyRequest {
        PolicyRequest::bare(OpKind::PersonalMessage, caller)
    }
}
