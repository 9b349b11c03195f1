//! What the caller hands in to reach KMS: the region and endpoint, the KMS key, and the AWS
//! credentials (from the parent's instance role, relayed by the host). Decides which values are
//! acceptable (checked here, each refusal naming its field) and that the secret parts never print
//! and are wiped on drop. Trusts the caller for the values themselves: a wrong key id or stale
//! credentials fail at KMS, not here.
use core::fmt;

use zeroize::Zeroizing;

use crate::error::{err, KmsError, KmsErrorCode};

/// Longest key id KMS accepts (an ARN or alias ARN; API reference: 1..2048).
const MAX_KEY_ID_LEN: usize = 2048;

/// AWS credentials for SigV4. `Debug` shows the access key id only; the secret access key and the
/// session token are zeroized on drop.
pub struct Credentials {
    access_key_id: String,
    secret_access_key: Zeroizing<String>,
    session_token: Option<Zeroizing<String>>,
}

impl Credentials {
    /// Checks that each part is non-empty printable ASCII without spaces (what SigV4 can carry in
    /// a header). The caller's own copies are its to wipe.
    pub fn new(access_key_id: &str, secret_access_key: &str, session_token: Option<&str>) -> Result<Self, KmsError> {
        check_token("access_key_id", access_key_id, 128)?;
        check_token("secret_access_key", secret_access_key, 128)?;
        if let Some(token) = session_token {
            // Session tokens of assumed roles run to a few KiB.
            check_token("session_token", token, 8192)?;
        }
        Ok(Credentials {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: Zeroizing::new(secret_access_key.to_owned()),
            session_token: session_token.map(|t| Zeroizing::new(t.to_owned())),
        })
    }

    /// The access key id (not secret: it names the key, and KMS logs it).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The credentials as `aws-sigv4` takes them (its type zeroizes its copy too).
    pub(crate) fn to_aws(&self) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            self.access_key_id.clone(),
            self.secret_access_key.as_str(),
            self.session_token.as_ref().map(|t| t.as_str().to_owned()),
            None,
            "sentinel-kms",
        )
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("session_token", &self.session_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn check_token(field: &str, value: &str, max: usize) -> Result<(), KmsError> {
    if value.is_empty() || value.len() > max {
        return Err(err(KmsErrorCode::ArgumentInvalid, format!("{field}: must be 1..={max} bytes")));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(err(KmsErrorCode::ArgumentInvalid, format!("{field}: must be printable ASCII without spaces")));
    }
    Ok(())
}

/// Where the KMS key lives: region (the SigV4 scope), endpoint host (the `Host` header and what
/// TLS checks), and the key id (key id, key ARN, alias name or alias ARN).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsConfig {
    region: String,
    host: String,
    key_id: String,
}

impl KmsConfig {
    /// The public endpoint of `region`: `kms.<region>.amazonaws.com`.
    pub fn aws(region: &str, key_id: &str) -> Result<Self, KmsError> {
        check_region(region)?;
        Self::with_endpoint(region, &format!("kms.{region}.amazonaws.com"), key_id)
    }

    /// An explicit endpoint `host[:port]` (a VPC endpoint, a FIPS endpoint, or a test server).
    pub fn with_endpoint(region: &str, host: &str, key_id: &str) -> Result<Self, KmsError> {
        check_region(region)?;
        // A host name or IP literal with an optional port: what may stand in a Host header.
        let host_ok = !host.is_empty()
            && host.len() <= 253
            && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
        if !host_ok {
            return Err(err(KmsErrorCode::ArgumentInvalid, "endpoint host: must be host[:port], 1..=253 bytes"));
        }
        check_token("key_id", key_id, MAX_KEY_ID_LEN)?;
        Ok(KmsConfig { region: region.to_owned(), host: host.to_owned(), key_id: key_id.to_owned() })
    }

    /// The region, e.g. `eu-west-1`.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The endpoint `host[:port]`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The KMS key id as configured.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

fn check_region(region: &str) -> Result<(), KmsError> {
    let ok = !region.is_empty()
        && region.len() <= 32
        && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(err(KmsErrorCode::ArgumentInvalid, "region: must be 1..=32 bytes of a-z, 0-9 and '-'"))
    }
}
