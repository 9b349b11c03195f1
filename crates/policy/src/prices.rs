//! Signed USD price tables, what `usd` notional limits convert amounts with.
//!
//! It decides whether a table is well formed (each asset priced once, prices
//! in micro-dollars, decimals 0..=77 so that 10^decimals fits 256 bits) and
//! whether the policy's `price_feed` key signed it: SHA-256("sentinel/prices/v1"
//! || SHA-256(canonical table JSON)), the table canonicalised exactly like a
//! policy (RFC 8785, no floats). It trusts only that key. Staleness (`now -
//! timestamp_s > max_staleness_s`) is decided per request by the engine, and
//! "newer than the table in force" (`PRICES_ROLLBACK`) by whoever keeps it.
//!
//! Every refusal of a table is `PRICES_INVALID` (a bad signature is
//! `PRICES_SIGNATURE_INVALID`), with the field path in the message.
use sentinel_config::Credential;
use sentinel_eth::U256;

use crate::document::{
    as_array, as_str, as_u64, hex0x, index, parse_asset, parse_hex_bytes, parse_json, parse_usd_micro, printable,
    AmountProblem, Json, Obj, MAX_JSON_DEPTH, MAX_POLICY_BYTES, USD_FRACTION_DIGITS,
};
use crate::error::{refuse, PolicyError, PolicyErrorCode as Code};
use crate::request::Asset;
use crate::rules::{AssetSelector, PriceFeed, MAX_LIST_ITEMS};

/// Domain separation tag of price-feed signatures.
pub const PRICES_SIGNATURE_DOMAIN: &[u8] = b"sentinel/prices/v1";
/// Largest `decimals` of a priced asset: 10^77 is the largest power of ten below 2^256.
pub const MAX_PRICE_DECIMALS: u8 = 77;
/// Largest price table, signed or not (JSON bytes).
pub const MAX_PRICES_BYTES: usize = MAX_POLICY_BYTES;

/// SHA-256(`PRICES_SIGNATURE_DOMAIN` || SHA-256(canonical table JSON)).
pub fn price_signing_digest(canonical_table: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    let inner: [u8; 32] = sha2::Sha256::digest(canonical_table).into();
    let mut h = sha2::Sha256::new();
    h.update(PRICES_SIGNATURE_DOMAIN);
    h.update(inner);
    h.finalize().into()
}

/// The USD price of one whole unit of an asset (`10^decimals` base units).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriceEntry {
    pub chain_id: u64,
    /// `None` = the chain's native coin.
    pub token: Option<sentinel_eth::Address>,
    pub decimals: u8,
    pub usd_micro: U256,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceTable {
    /// When the feed priced these (seconds since the Unix epoch).
    pub timestamp_s: u64,
    /// In table order; each (chain, token) at most once.
    pub entries: Vec<PriceEntry>,
}

impl PriceTable {
    /// Reads a table (`{"timestamp_s": .., "prices": [{"asset", "usd", "decimals"}]}`,
    /// any JSON formatting).
    pub fn from_json(json: &[u8]) -> Result<PriceTable, PolicyError> {
        let value = parse_json(json, "price table", MAX_PRICES_BYTES, MAX_JSON_DEPTH).map_err(as_prices_error)?;
        PriceTable::from_value(&value, "").map_err(as_prices_error)
    }

    fn from_value(value: &Json, path: &str) -> Result<PriceTable, PolicyError> {
        let obj = Obj::new(value, path, &["timestamp_s", "prices"])?;
        let timestamp_s = as_u64(obj.req("timestamp_s")?, &obj.path("timestamp_s"))?;
        let list_path = obj.path("prices");
        let items = as_array(obj.req("prices")?, &list_path, MAX_LIST_ITEMS, "MAX_LIST_ITEMS")?;
        let mut entries: Vec<PriceEntry> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let item_path = index(&list_path, i);
            let p = Obj::new(item, &item_path, &["asset", "usd", "decimals"])?;

            let asset_path = p.path("asset");
            let asset_text = as_str(p.req("asset")?, &asset_path)?;
            let (chain_id, token) = match parse_asset(asset_text, false) {
                Ok(AssetSelector::Native { chain_id }) => (chain_id, None),
                Ok(AssetSelector::Erc20 { chain_id, token }) => (chain_id, Some(token)),
                Ok(AssetSelector::Usd) | Err(_) => {
                    return prices_invalid(
                        &asset_path,
                        format_args!(
                            "`{}` is not an asset (\"native:<chain id>\" or \"erc20:<chain id>:<0x token address>\")",
                            printable(asset_text)
                        ),
                    )
                }
            };
            if let Some(first) = entries.iter().position(|e| e.chain_id == chain_id && e.token == token) {
                return prices_invalid(
                    &asset_path,
                    format_args!("`{asset_text}` already priced at {}", index(&list_path, first)),
                );
            }

            let usd_path = p.path("usd");
            let usd_micro = match p.req("usd")? {
                Json::Str(s) => match parse_usd_micro(s) {
                    Ok(n) if n.is_zero() => {
                        return prices_invalid(
                            &usd_path,
                            "a price of 0 would make every amount free; leave the asset out instead \
                             (unpriced assets deny)",
                        )
                    }
                    Ok(n) => n,
                    Err(AmountProblem::Syntax) => {
                        return prices_invalid(
                            &usd_path,
                            format_args!(
                                "`{}` is not a USD price (a decimal string with up to {USD_FRACTION_DIGITS} \
                                 fraction digits, e.g. \"3012.55\")",
                                printable(s)
                            ),
                        )
                    }
                    Err(AmountProblem::Range) => return prices_invalid(&usd_path, "larger than 2^256-1 micro-dollars"),
                },
                _ => return prices_invalid(&usd_path, "expected a decimal string (\"3012.55\")"),
            };

            let decimals_path = p.path("decimals");
            let decimals = as_u64(p.req("decimals")?, &decimals_path)?;
            let decimals = match u8::try_from(decimals) {
                Ok(d) if d <= MAX_PRICE_DECIMALS => d,
                _ => {
                    return prices_invalid(&decimals_path, format_args!("{decimals}, must be 0..={MAX_PRICE_DECIMALS}"))
                }
            };
            entries.push(PriceEntry { chain_id, token, decimals, usd_micro });
        }
        Ok(PriceTable { timestamp_s, entries })
    }

    /// The entry for `asset` (`None` for unprotected assets and unknown ones).
    /// An unprotected request (no chain id) is valid on every chain, so no
    /// single chain's price applies: a `usd` rule errors (denies) on it.
    pub fn entry(&self, asset: &Asset) -> Option<&PriceEntry> {
        let (chain_id, token) = match *asset {
            Asset::Native { chain_id } => (chain_id?, None),
            Asset::Erc20 { chain_id, token } => (chain_id?, Some(token)),
        };
        self.entries.iter().find(|e| e.chain_id == chain_id && e.token == token)
    }

    /// `amount` base units of `asset` in micro-USD, rounded up; `None` when unpriced.
    ///
    /// `ceil(amount * usd_micro / 10^decimals)`, computed exactly in 512
    /// bits. Rounding up means a limit is never exceeded by rounding (one wei
    /// of a priced asset counts at least one micro-dollar). `None` also when
    /// the asset is unprotected (see [`PriceTable::entry`]) or the result
    /// exceeds 2^256-1 micro-dollars; the engine treats every `None` as an
    /// evaluation error (deny).
    pub fn usd_micro(&self, asset: &Asset, amount: U256) -> Option<U256> {
        let entry = self.entry(asset)?;
        if entry.decimals > MAX_PRICE_DECIMALS {
            return None;
        }
        // sentinel-eth exports U256 only; `widening_mul` names the 512-bit
        // type by inference (ruint's Uint<512, 8>).
        let product = amount.widening_mul::<256, 4, 512, 8>(entry.usd_micro);
        let scale = U256::from(10u8).pow(U256::from(entry.decimals)).widening_mul::<256, 4, 512, 8>(U256::from(1u8));
        let quotient = product.div_ceil(scale);
        let limbs = quotient.as_limbs();
        if limbs[4..].iter().any(|&l| l != 0) {
            return None;
        }
        Some(U256::from_limbs([limbs[0], limbs[1], limbs[2], limbs[3]]))
    }
}

/// `{"table": {"timestamp_s": ..., "prices": [...]}, "signature": "0x..."}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedPrices {
    pub table: PriceTable,
    /// Canonical JSON of the `table` object (what the feed signed).
    pub canonical: Vec<u8>,
    pub signature: Vec<u8>,
}

impl SignedPrices {
    /// Parses a signed table (strict JSON; unknown fields refused). The
    /// signature is not checked here: see [`SignedPrices::verify`].
    pub fn from_json(json: &[u8]) -> Result<SignedPrices, PolicyError> {
        let parsed = (|| {
            let value = parse_json(json, "signed price table", MAX_PRICES_BYTES + 1024, MAX_JSON_DEPTH + 1)?;
            let obj = Obj::new(&value, "", &["table", "signature"])?;
            let table_value = obj.req("table")?;
            let table = PriceTable::from_value(table_value, "table")?;
            let sig_path = obj.path("signature");
            let sig_hex = as_str(obj.req("signature")?, &sig_path)?;
            let Some(signature) = parse_hex_bytes(sig_hex) else {
                return prices_invalid(&sig_path, "expected \"0x\" followed by hex digits");
            };
            if signature.len() > sentinel_config::MAX_SIGNATURE_BYTES {
                return prices_invalid(
                    &sig_path,
                    format_args!("{} bytes, at most {}", signature.len(), sentinel_config::MAX_SIGNATURE_BYTES),
                );
            }
            Ok(SignedPrices { table, canonical: table_value.canonical(), signature })
        })();
        parsed.map_err(as_prices_error)
    }

    /// A table signed with `credential` (any kind: the feed's key is whatever
    /// the policy's `price_feed` names).
    pub fn sign(table_json: &[u8], credential: &Credential) -> Result<SignedPrices, PolicyError> {
        let value = parse_json(table_json, "price table", MAX_PRICES_BYTES, MAX_JSON_DEPTH).map_err(as_prices_error)?;
        let table = PriceTable::from_value(&value, "").map_err(as_prices_error)?;
        let canonical = value.canonical();
        let signature = credential.sign(&price_signing_digest(&canonical));
        Ok(SignedPrices { table, canonical, signature })
    }

    /// The signed table as canonical JSON (`{"signature": "0x..", "table": {...}}`).
    pub fn to_json(&self) -> String {
        let table = String::from_utf8_lossy(&self.canonical);
        format!("{{\"signature\":\"{}\",\"table\":{table}}}", hex0x(&self.signature))
    }

    /// The table, if `policy` names a price feed and the feed signed it
    /// (`PRICE_FEED_NOT_CONFIGURED`, `PRICES_SIGNATURE_INVALID` otherwise).
    pub fn verified_for(self, policy: &crate::rules::Policy) -> Result<PriceTable, PolicyError> {
        let Some(feed) = policy.price_feed.as_ref() else {
            return refuse(Code::PriceFeedNotConfigured, "price_feed: the policy names no price feed key");
        };
        self.verify(feed)?;
        Ok(self.table)
    }

    /// Checks the signature against the feed key (not the staleness: that is per request).
    pub fn verify(&self, feed: &PriceFeed) -> Result<(), PolicyError> {
        if feed.public_key.verify(&price_signing_digest(&self.canonical), &self.signature) {
            return Ok(());
        }
        refuse(
            Code::PricesSignatureInvalid,
            format!(
                "signature: not a signature of the policy's price_feed key ({}) over this table",
                feed.public_key.alg()
            ),
        )
    }
}

/// Signs a price table (JSON text, any formatting) with `credential` and
/// returns the signed table's JSON (what `zcp prices sign` writes).
pub fn sign_prices(table_json: &[u8], credential: &Credential) -> Result<String, PolicyError> {
    SignedPrices::sign(table_json, credential).map(|s| s.to_json())
}

fn prices_invalid<T>(path: &str, message: impl std::fmt::Display) -> Result<T, PolicyError> {
    refuse(Code::PricesInvalid, format!("{}: {message}", if path.is_empty() { "table" } else { path }))
}

/// Every refusal of a table is `PRICES_INVALID`, whatever the shared JSON
/// reader called it.
fn as_prices_error(e: PolicyError) -> PolicyError {
    match e.code {
        Code::PricesInvalid | Code::PricesSignatureInvalid => e,
        _ => {
            // The shared reader calls the root "policy".
            let message = match e.message.strip_prefix("policy: ") {
                Some(rest) => format!("table: {rest}"),
                None => e.message,
            };
            PolicyError::new(Code::PricesInvalid, message)
        }
    }
}
