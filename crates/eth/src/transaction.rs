//! The unsigned transaction: a typed struct and its strict decoder.
//!
//! A policy engine must judge the transaction that will actually be signed,
//! not a caller's description of it. So the signer takes raw unsigned bytes,
//! and this module turns them into a struct only if they are the one
//! canonical encoding of a legacy, EIP-155, EIP-2930 or EIP-1559 transaction;
//! anything else (other types, signed transactions, non-canonical RLP,
//! trailing bytes) is refused with a stable code. Re-encoding a decoded
//! transaction gives back the input byte for byte, which is what lets the
//! signer hash the input and the policy read the struct.
use alloy_primitives::{keccak256, Address, Bytes, B256, U256};

use crate::error::{code, Error};
use crate::rlp::{put_bytes, put_list, put_u256, put_u64, read_item, split_list, Item};

/// geth's `txMaxSize`: larger input is refused before any parsing.
pub const MAX_TRANSACTION_BYTES: usize = 131_072;

/// Which of the four signable transaction forms this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TxKind {
    /// Pre-EIP-155 legacy: six fields, no chain id, replayable across chains.
    Legacy,
    /// Legacy with the EIP-155 `(chainId, 0, 0)` tail.
    Eip155,
    /// Type 0x01 (access list, gas price).
    Eip2930,
    /// Type 0x02 (priority fee and fee cap).
    Eip1559,
}

impl TxKind {
    /// The name used in views and messages: `legacy`, `eip155`, `eip2930`, `eip1559`.
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Legacy => "legacy",
            TxKind::Eip155 => "eip155",
            TxKind::Eip2930 => "eip2930",
            TxKind::Eip1559 => "eip1559",
        }
    }

    /// The EIP-2718 type byte, or `None` for the untyped legacy forms.
    pub fn type_byte(self) -> Option<u8> {
        match self {
            TxKind::Legacy | TxKind::Eip155 => None,
            TxKind::Eip2930 => Some(0x01),
            TxKind::Eip1559 => Some(0x02),
        }
    }
}

/// One EIP-2930 access list entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessListItem {
    pub address: Address,
    pub storage_keys: Vec<B256>,
}

/// An unsigned transaction, exactly what will be signed.
///
/// Fields a kind does not have are `None` (or empty) after decoding. When a
/// struct built by hand leaves a field of its kind as `None`, encoding writes
/// zero there, and [`Transaction::view`] shows that zero, so the view always
/// describes the bytes [`Transaction::encode_unsigned`] produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub kind: TxKind,
    pub chain_id: Option<u64>,
    pub nonce: u64,
    pub gas_price: Option<U256>,
    pub max_priority_fee_per_gas: Option<U256>,
    pub max_fee_per_gas: Option<U256>,
    pub gas_limit: u64,
    /// `None` is contract creation.
    pub to: Option<Address>,
    pub value: U256,
    pub data: Bytes,
    pub access_list: Vec<AccessListItem>,
}

pub(crate) const LEGACY_FIELDS: [&str; 9] =
    ["nonce", "gasPrice", "gasLimit", "to", "value", "data", "chainId", "r", "s"];
pub(crate) const EIP2930_FIELDS: [&str; 8] =
    ["chainId", "nonce", "gasPrice", "gasLimit", "to", "value", "data", "accessList"];
pub(crate) const EIP1559_FIELDS: [&str; 9] =
    ["chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gasLimit", "to", "value", "data", "accessList"];

/// Decodes raw unsigned transaction bytes, strictly (see the crate README for
/// every rule and its error code).
pub fn decode_transaction(unsigned: &[u8]) -> Result<Transaction, Error> {
    let Some(&first) = unsigned.first() else {
        return Err(Error::new(code::EMPTY_INPUT, "transaction: input is empty"));
    };
    if unsigned.len() > MAX_TRANSACTION_BYTES {
        return Err(Error::new(
            code::TRANSACTION_TOO_LARGE,
            format!("transaction: {} bytes exceeds the limit of {MAX_TRANSACTION_BYTES}", unsigned.len()),
        ));
    }
    match first {
        0x01 => decode_eip2930(outer_list(&unsigned[1..], "EIP-2930", &EIP2930_FIELDS)?),
        0x02 => decode_eip1559(outer_list(&unsigned[1..], "EIP-1559", &EIP1559_FIELDS)?),
        0xc0..=0xff => decode_legacy(outer_list(unsigned, "legacy", &LEGACY_FIELDS)?),
        0x00..=0x7f => Err(Error::new(
            code::UNSUPPORTED_TRANSACTION_TYPE,
            format!("transaction: type 0x{first:02x} is not supported (only legacy, 0x01 and 0x02)"),
        )),
        _ => Err(Error::new(
            code::EXPECTED_LIST,
            "transaction: expected a type byte or an RLP list (legacy), found an RLP string",
        )),
    }
}

/// Reads the one list that must make up the rest of the input.
pub(crate) fn outer_list<'a>(
    buf: &'a [u8],
    kind: &str,
    names: &'static [&'static str],
) -> Result<Vec<Item<'a>>, Error> {
    let label = format!("{kind} transaction");
    let mut rest = buf;
    let item = read_item(&mut rest, &label)?;
    let payload = item.list(&label)?;
    if !rest.is_empty() {
        return Err(Error::new(
            code::TRAILING_BYTES,
            format!("{label}: {} trailing bytes after the RLP list", rest.len()),
        ));
    }
    split_list(payload, &|i| field_name(names, i))
}

fn field_name(names: &[&str], index: usize) -> String {
    match names.get(index) {
        Some(name) => (*name).to_string(),
        None => format!("field {index}"),
    }
}

fn field_count_error(kind: &str, got: usize, expected: &str) -> Error {
    Error::new(code::WRONG_FIELD_COUNT, format!("{kind} transaction: found {got} fields, expected {expected}"))
}

fn decode_to(item: Item<'_>) -> Result<Option<Address>, Error> {
    let bytes = item.string(&"to")?;
    match bytes.len() {
        0 => Ok(None),
        20 => Ok(Some(Address::from_slice(bytes))),
        n => Err(Error::new(
            code::INVALID_TO_ADDRESS,
            format!("to: must be empty (contract creation) or 20 bytes, found {n} bytes"),
        )),
    }
}

fn decode_data(item: Item<'_>) -> Result<Bytes, Error> {
    Ok(Bytes::copy_from_slice(item.string(&"data")?))
}

pub(crate) fn decode_legacy(items: Vec<Item<'_>>) -> Result<Transaction, Error> {
    let n = items.len();
    if n != 6 && n != 9 {
        return Err(field_count_error("legacy", n, "6 (pre-EIP-155) or 9 (EIP-155)"));
    }
    let mut tx = Transaction {
        kind: TxKind::Legacy,
        chain_id: None,
        nonce: items[0].u64(&"nonce")?,
        gas_price: Some(items[1].u256(&"gasPrice")?),
        max_priority_fee_per_gas: None,
        max_fee_per_gas: None,
        gas_limit: items[2].u64(&"gasLimit")?,
        to: decode_to(items[3])?,
        value: items[4].u256(&"value")?,
        data: decode_data(items[5])?,
        access_list: Vec::new(),
    };
    if n == 9 {
        let chain_id = items[6].u64(&"chainId")?;
        let r = items[7].u256(&"r")?;
        let s = items[8].u256(&"s")?;
        if chain_id == 0 {
            return Err(Error::new(code::INVALID_EIP155_TAIL, "chainId: EIP-155 chain id must not be zero"));
        }
        if !r.is_zero() || !s.is_zero() {
            return Err(Error::new(
                code::INVALID_EIP155_TAIL,
                "r, s: must be empty in an unsigned EIP-155 transaction (is this already signed?)",
            ));
        }
        tx.kind = TxKind::Eip155;
        tx.chain_id = Some(chain_id);
    }
    Ok(tx)
}

pub(crate) fn decode_eip2930(items: Vec<Item<'_>>) -> Result<Transaction, Error> {
    if items.len() != 8 {
        return Err(field_count_error("EIP-2930", items.len(), "8"));
    }
    Ok(Transaction {
        kind: TxKind::Eip2930,
        chain_id: Some(items[0].u64(&"chainId")?),
        nonce: items[1].u64(&"nonce")?,
        gas_price: Some(items[2].u256(&"gasPrice")?),
        max_priority_fee_per_gas: None,
        max_fee_per_gas: None,
        gas_limit: items[3].u64(&"gasLimit")?,
        to: decode_to(items[4])?,
        value: items[5].u256(&"value")?,
        data: decode_data(items[6])?,
        access_list: decode_access_list(items[7])?,
    })
}

pub(crate) fn decode_eip1559(items: Vec<Item<'_>>) -> Result<Transaction, Error> {
    if items.len() != 9 {
        return Err(field_count_error("EIP-1559", items.len(), "9"));
    }
    Ok(Transaction {
        kind: TxKind::Eip1559,
        chain_id: Some(items[0].u64(&"chainId")?),
        nonce: items[1].u64(&"nonce")?,
        gas_price: None,
        max_priority_fee_per_gas: Some(items[2].u256(&"maxPriorityFeePerGas")?),
        max_fee_per_gas: Some(items[3].u256(&"maxFeePerGas")?),
        gas_limit: items[4].u64(&"gasLimit")?,
        to: decode_to(items[5])?,
        value: items[6].u256(&"value")?,
        data: decode_data(items[7])?,
        access_list: decode_access_list(items[8])?,
    })
}

fn access_list_error(message: String) -> Error {
    Error::new(code::INVALID_ACCESS_LIST, message)
}

fn decode_access_list(item: Item<'_>) -> Result<Vec<AccessListItem>, Error> {
    let entries = split_list(item.list(&"accessList")?, &|i| format!("accessList[{i}]"))?;
    let mut out = Vec::with_capacity(entries.len());
    for (i, entry) in entries.into_iter().enumerate() {
        let parts = split_list(entry.list(&format_args!("accessList[{i}]"))?, &|j| match j {
            0 => format!("accessList[{i}].address"),
            1 => format!("accessList[{i}].storageKeys"),
            _ => format!("accessList[{i}] field {j}"),
        })?;
        let [address, keys] = parts[..] else {
            return Err(access_list_error(format!(
                "accessList[{i}]: entry has {} fields, expected 2 (address, storageKeys)",
                parts.len()
            )));
        };
        let address = address.string(&format_args!("accessList[{i}].address"))?;
        if address.len() != 20 {
            return Err(access_list_error(format!(
                "accessList[{i}].address: must be 20 bytes, found {}",
                address.len()
            )));
        }
        let keys_payload = keys.list(&format_args!("accessList[{i}].storageKeys"))?;
        let keys = split_list(keys_payload, &|j| format!("accessList[{i}].storageKeys[{j}]"))?;
        let mut storage_keys = Vec::with_capacity(keys.len());
        for (j, key) in keys.into_iter().enumerate() {
            let key = key.string(&format_args!("accessList[{i}].storageKeys[{j}]"))?;
            if key.len() != 32 {
                return Err(access_list_error(format!(
                    "accessList[{i}].storageKeys[{j}]: must be 32 bytes, found {}",
                    key.len()
                )));
            }
            storage_keys.push(B256::from_slice(key));
        }
        out.push(AccessListItem { address: Address::from_slice(address), storage_keys });
    }
    Ok(out)
}

impl Transaction {
    /// The unsigned encoding: what gets hashed and signed.
    pub fn encode_unsigned(&self) -> Vec<u8> {
        let mut payload = self.encode_body();
        if self.kind == TxKind::Eip155 {
            put_u64(&mut payload, self.chain_id.unwrap_or(0));
            put_bytes(&mut payload, &[]);
            put_bytes(&mut payload, &[]);
        }
        self.envelope(&payload)
    }

    /// keccak256 of [`Transaction::encode_unsigned`].
    pub fn signing_hash(&self) -> [u8; 32] {
        keccak256(self.encode_unsigned()).0
    }

    /// The fields common to the unsigned and signed forms, RLP-encoded in
    /// order, without the list header.
    pub(crate) fn encode_body(&self) -> Vec<u8> {
        let zero = U256::ZERO;
        let mut out = Vec::with_capacity(64 + self.data.len() + self.access_list.len() * 64);
        if self.kind.type_byte().is_some() {
            put_u64(&mut out, self.chain_id.unwrap_or(0));
        }
        put_u64(&mut out, self.nonce);
        if self.kind == TxKind::Eip1559 {
            put_u256(&mut out, self.max_priority_fee_per_gas.as_ref().unwrap_or(&zero));
            put_u256(&mut out, self.max_fee_per_gas.as_ref().unwrap_or(&zero));
        } else {
            put_u256(&mut out, self.gas_price.as_ref().unwrap_or(&zero));
        }
        put_u64(&mut out, self.gas_limit);
        match &self.to {
            Some(to) => put_bytes(&mut out, to.as_slice()),
            None => put_bytes(&mut out, &[]),
        }
        put_u256(&mut out, &self.value);
        put_bytes(&mut out, &self.data);
        if self.kind.type_byte().is_some() {
            let mut list = Vec::new();
            for item in &self.access_list {
                let mut entry = Vec::new();
                put_bytes(&mut entry, item.address.as_slice());
                let mut keys = Vec::with_capacity(item.storage_keys.len() * 33);
                for key in &item.storage_keys {
                    put_bytes(&mut keys, key.as_slice());
                }
                put_list(&mut entry, &keys);
                put_list(&mut list, &entry);
            }
            put_list(&mut out, &list);
        }
        out
    }

    /// Type byte (for typed kinds) followed by the list around `payload`.
    pub(crate) fn envelope(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(payload.len() + 10);
        if let Some(ty) = self.kind.type_byte() {
            out.push(ty);
        }
        put_list(&mut out, payload);
        out
    }
}
