//! Transactions -> `PolicyRequest`: chain, fees, native value and the three
//! ERC-20 calls a notional limit counts (`transfer`, `transferFrom`, `approve`).
//!
//! The ERC-20 arguments are read with the strict ABI layout only: exactly
//! `4 + 32 * n` bytes, address words with twelve zero bytes before the
//! address. Calldata with one of those selectors but any other shape is not
//! guessed at: it is `CallKind::Unknown` and moves nothing (what a token
//! contract would do with it depends on the contract; `contract_list` refuses
//! unknown calldata to a listed token). Decoding never fails: every
//! transaction the strict decoder accepted yields a request.
//!
//! Chain and fee are read as `Transaction::encode_unsigned` writes them (so
//! for what is actually signed): a legacy transaction has no chain id whatever
//! its `chain_id` field says; the other kinds carry `chain_id` (zero when
//! absent); the fee cap is `max_fee_per_gas` for EIP-1559 and `gas_price`
//! otherwise (zero when absent). For a decoded transaction these are exactly
//! its fields.
use sentinel_eth::{Address, Transaction, TxKind, U256};

use crate::error::PolicyError;
use crate::request::{Asset, CallKind, Caller, Movement, MovementKind, OpKind, PolicyRequest};

/// `transfer(address,uint256)`.
pub(crate) const SELECTOR_TRANSFER: [u8; 4] = [0xa9, 0x05, 0x9c, 0xbb];
/// `transferFrom(address,address,uint256)`.
pub(crate) const SELECTOR_TRANSFER_FROM: [u8; 4] = [0x23, 0xb8, 0x72, 0xdd];
/// `approve(address,uint256)`.
pub(crate) const SELECTOR_APPROVE: [u8; 4] = [0x09, 0x5e, 0xa7, 0xb3];

/// One decoded ERC-20 call: its kind, the counterparty (recipient or spender) and the amount.
struct Erc20Call {
    call: CallKind,
    kind: MovementKind,
    counterparty: Address,
    amount: U256,
}

/// The `i`th 32-byte argument word (arguments start after the selector).
fn word(data: &[u8], i: usize) -> Option<&[u8; 32]> {
    let start = 4usize.checked_add(i.checked_mul(32)?)?;
    data.get(start..start.checked_add(32)?)?.try_into().ok()
}

/// An ABI `address` word: twelve zero bytes, then the address.
fn address_word(data: &[u8], i: usize) -> Option<Address> {
    let w = word(data, i)?;
    let (pad, addr) = w.split_at(12);
    pad.iter().all(|b| *b == 0).then(|| Address::from_slice(addr))
}

fn uint_word(data: &[u8], i: usize) -> Option<U256> {
    word(data, i).map(|w| U256::from_be_bytes(*w))
}

/// Strict decoding of the three ERC-20 calls; `None` for anything else.
fn decode_erc20(data: &[u8]) -> Option<Erc20Call> {
    let selector: [u8; 4] = data.get(..4)?.try_into().ok()?;
    let (call, kind, words) = match selector {
        SELECTOR_TRANSFER => (CallKind::Erc20Transfer, MovementKind::Transfer, 2),
        SELECTOR_TRANSFER_FROM => (CallKind::Erc20TransferFrom, MovementKind::Transfer, 3),
        SELECTOR_APPROVE => (CallKind::Erc20Approve, MovementKind::Approval, 2),
        _ => return None,
    };
    if data.len() != 4 + 32 * words {
        return None;
    }
    let (counterparty, amount) = if call == CallKind::Erc20TransferFrom {
        // transferFrom(from, to, amount): `from` must be a well-formed address
        // too, though the movement's counterparty is the recipient.
        address_word(data, 0)?;
        (address_word(data, 1)?, uint_word(data, 2)?)
    } else {
        (address_word(data, 0)?, uint_word(data, 1)?)
    };
    Some(Erc20Call { call, kind, counterparty, amount })
}

impl PolicyRequest {
    /// What a decoded unsigned transaction moves, to whom, on which chain.
    ///
    /// Never fails (the `Result` is for symmetry with the other constructors).
    pub fn from_transaction(caller: Caller<'_>, tx: &Transaction) -> Result<PolicyRequest, PolicyError> {
        let mut request = PolicyRequest::bare(OpKind::Transaction, caller);

        let chain_id = match tx.kind {
            TxKind::Legacy => None,
            TxKind::Eip155 | TxKind::Eip2930 | TxKind::Eip1559 => Some(tx.chain_id.unwrap_or(0)),
        };
        let unprotected = matches!(chain_id, None | Some(0));
        let asset_chain = if unprotected { None } else { chain_id };
        request.chain_id = chain_id;
        request.unprotected = unprotected;
        request.destination = tx.to;
        request.max_fee_per_gas = Some(match tx.kind {
            TxKind::Eip1559 => tx.max_fee_per_gas.unwrap_or(U256::ZERO),
            TxKind::Legacy | TxKind::Eip155 | TxKind::Eip2930 => tx.gas_price.unwrap_or(U256::ZERO),
        });
        request.gas_limit = Some(tx.gas_limit);

        let data: &[u8] = tx.data.as_ref();
        request.selector = data.get(..4).and_then(|s| s.try_into().ok());

        if !tx.value.is_zero() {
            request.movements.push(Movement {
                asset: Asset::Native { chain_id: asset_chain },
                amount: tx.value,
                kind: MovementKind::NativeValue,
                counterparty: tx.to,
            });
        }

        request.call = match tx.to {
            None => CallKind::Creation,
            Some(_) if data.is_empty() => CallKind::None,
            Some(token) => match decode_erc20(data) {
                Some(decoded) => {
                    request.token = Some(token);
                    request.movements.push(Movement {
                        asset: Asset::Erc20 { chain_id: asset_chain, token },
                        amount: decoded.amount,
                        kind: decoded.kind,
                        counterparty: Some(decoded.counterparty),
                    });
                    decoded.call
                }
                None => CallKind::Unknown,
            },
        };
        Ok(request)
    }
}
