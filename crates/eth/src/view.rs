//! A JSON-friendly view of a transaction for JavaScript callers.
//!
//! The bindings hand this to JS through serde, so every number is a decimal
//! string (nonces and gas limits can exceed 2^53, amounts 2^64), addresses are
//! EIP-55, bytes are lowercase `0x` hex, and a field the kind does not have is
//! `null` rather than a misleading zero. It is derived from the same rules as
//! the encoder, so it describes exactly the bytes that get signed, and it
//! carries the signing hash so a reviewer can tie the two together.
use alloy_primitives::{hex, U256};
use serde::Serialize;

use crate::address::checksum_address;
use crate::transaction::{Transaction, TxKind};

/// What a policy engine or a UI reads. See the module doc for the encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionView {
    pub kind: &'static str,
    pub chain_id: Option<String>,
    pub nonce: String,
    pub gas_limit: String,
    pub value: String,
    pub gas_price: Option<String>,
    pub max_fee_per_gas: Option<String>,
    pub max_priority_fee_per_gas: Option<String>,
    pub to: Option<String>,
    pub data: String,
    pub access_list: Vec<AccessListItemView>,
    pub signing_hash: String,
}

/// One access list entry as JS sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessListItemView {
    pub address: String,
    pub storage_keys: Vec<String>,
}

fn amount(value: Option<U256>) -> String {
    value.unwrap_or(U256::ZERO).to_string()
}

impl Transaction {
    /// The view of exactly what [`Transaction::encode_unsigned`] encodes.
    pub fn view(&self) -> TransactionView {
        let typed = self.kind.type_byte().is_some();
        let eip1559 = self.kind == TxKind::Eip1559;
        TransactionView {
            kind: self.kind.as_str(),
            chain_id: match self.kind {
                TxKind::Legacy => None,
                _ => Some(self.chain_id.unwrap_or(0).to_string()),
            },
            nonce: self.nonce.to_string(),
            gas_limit: self.gas_limit.to_string(),
            value: self.value.to_string(),
            gas_price: (!eip1559).then(|| amount(self.gas_price)),
            max_fee_per_gas: eip1559.then(|| amount(self.max_fee_per_gas)),
            max_priority_fee_per_gas: eip1559.then(|| amount(self.max_priority_fee_per_gas)),
            to: self.to.map(|to| checksum_address(&to.0 .0)),
            data: hex::encode_prefixed(&self.data),
            access_list: if typed {
                self.access_list
                    .iter()
                    .map(|item| AccessListItemView {
                        address: checksum_address(&item.address.0 .0),
                        storage_keys: item.storage_keys.iter().map(hex::encode_prefixed).collect(),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            signing_hash: hex::encode_prefixed(self.signing_hash()),
        }
    }
}

/// The result of recovering a signed transaction's signer, as JS sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecoveredSignerView {
    /// EIP-55 address of the signer.
    pub signer: String,
    pub transaction: TransactionView,
}

impl RecoveredSignerView {
    pub fn new(signer: &[u8; 20], transaction: &Transaction) -> Self {
        RecoveredSignerView { signer: checksum_address(signer), transaction: transaction.view() }
    }
}
