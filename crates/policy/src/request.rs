//! What the policy reads: a request as the enclave decoded it, never as the
//! host described it. Built by `from_*` constructors (decoding in
//! `calldata.rs` and `permits.rs`) before evaluation, so that evaluation itself
//! only reads fields and never allocates.
use sentinel_eth::{Address, U256};

/// Most asset movements one request may carry (a Permit2 batch is refused past it).
pub const MAX_MOVEMENTS: usize = 16;

/// Which signing operation the request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// `sign_digest`: nothing decodable; only scope, rate and time rules apply.
    Digest,
    /// `sign_ed25519`: as `Digest`.
    Ed25519Message,
    /// `sign_ethereum_transaction`.
    Transaction,
    /// `sign_personal_message` (EIP-191).
    PersonalMessage,
    /// `sign_typed_data` (EIP-712).
    TypedData,
}

impl OpKind {
    /// Every signing operation the policy reads, in `as_str` order.
    pub const ALL: [OpKind; 5] =
        [OpKind::Digest, OpKind::Ed25519Message, OpKind::Transaction, OpKind::PersonalMessage, OpKind::TypedData];

    /// The kind of a signing operation's wire name (`sign_digest`, ...); `None` for anything else.
    pub fn from_wire_name(op: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| k.as_str() == op)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            OpKind::Digest => "sign_digest",
            OpKind::Ed25519Message => "sign_ed25519",
            OpKind::Transaction => "sign_ethereum_transaction",
            OpKind::PersonalMessage => "sign_personal_message",
            OpKind::TypedData => "sign_typed_data",
        }
    }
}

/// An asset identity: amounts are only ever added within one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Asset {
    /// The chain's native coin (wei). `chain_id` `None` = unprotected request (any chain).
    Native { chain_id: Option<u64> },
    /// An ERC-20 token (its base units). `chain_id` `None` = unprotected request.
    Erc20 { chain_id: Option<u64>, token: Address },
}

/// What a movement does with the amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MovementKind {
    /// Native value sent with a transaction.
    NativeValue,
    /// ERC-20 `transfer` / `transferFrom`, or a Permit2 `PermitTransferFrom` (tokens leave now).
    Transfer,
    /// ERC-20 `approve`, EIP-2612 `Permit`, Permit2 `PermitSingle` / `PermitBatch` (a spending allowance).
    Approval,
}

/// One amount of one asset that the request moves or approves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Movement {
    pub asset: Asset,
    pub amount: U256,
    pub kind: MovementKind,
    /// Recipient of a transfer, spender of an approval.
    pub counterparty: Option<Address>,
}

/// What the calldata of a transaction was decoded as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// No calldata (a plain value transfer, or not a transaction).
    None,
    /// Contract creation (`to` absent).
    Creation,
    /// `transfer(address,uint256)` (0xa9059cbb) on token `to`.
    Erc20Transfer,
    /// `transferFrom(address,address,uint256)` (0x23b872dd).
    Erc20TransferFrom,
    /// `approve(address,uint256)` (0x095ea7b3).
    Erc20Approve,
    /// Calldata that is none of the above (or malformed arguments for one of those selectors).
    Unknown,
}

/// A decoded request, what every rule reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRequest {
    pub op: OpKind,
    /// Authenticated principal (from the stamp or session), key id and the key's label.
    pub principal: String,
    pub key_id: String,
    pub key_label: String,
    /// The chain the signature is valid on: the transaction's chain id (EIP-155 / typed), or the
    /// typed data's `domain.chainId`; `None` for pre-EIP-155 legacy transactions, typed data
    /// without `chainId`, and the undecodable ops.
    pub chain_id: Option<u64>,
    /// True when the signature would be valid on any chain (no chain id, or chain id 0) for a
    /// transaction or typed data. False for messages and digests (no chain at all).
    pub unprotected: bool,
    /// The transaction's `to`, or the typed data's `domain.verifyingContract`.
    pub destination: Option<Address>,
    /// First four bytes of the calldata, when it has at least four.
    pub selector: Option<[u8; 4]>,
    pub call: CallKind,
    /// The token whose ERC-20 call or permit was decoded (for a Permit2 batch: see `movements`).
    pub token: Option<Address>,
    /// Everything the request moves or approves (native value first, then token amounts).
    pub movements: Vec<Movement>,
    /// Transaction fee cap: `max_fee_per_gas` (EIP-1559) or `gas_price`; `None` otherwise.
    pub max_fee_per_gas: Option<U256>,
    pub gas_limit: Option<u64>,
}

/// Who asks, for which key: what the enclave knows beyond the body.
#[derive(Clone, Copy, Debug)]
pub struct Caller<'a> {
    pub principal: &'a str,
    pub key_id: &'a str,
    pub key_label: &'a str,
}

impl PolicyRequest {
    /// A request with nothing decodable (`sign_digest`, `sign_ed25519`, or the base of the others).
    pub fn bare(op: OpKind, caller: Caller<'_>) -> PolicyRequest {
        PolicyRequest {
            op,
            principal: caller.principal.to_string(),
            key_id: caller.key_id.to_string(),
            key_label: caller.key_label.to_string(),
            chain_id: None,
            unprotected: false,
            destination: None,
            selector: None,
            call: CallKind::None,
            token: None,
            movements: Vec::new(),
            max_fee_per_gas: None,
            gas_limit: None,
        }
    }

    /// Recipients and spenders of every movement (for `contract_list` and the risk features).
    pub fn counterparties(&self) -> impl Iterator<Item = Address> + '_ {
        self.movements.iter().filter_map(|m| m.counterparty)
    }
}
