#!/usr/bin/env bash
# Generates the CMS envelopes and TLS test certificates in this folder with the OpenSSL CLI, an
# implementation independent of the RustCrypto crates sentinel-kms parses them with. Run once
# (`bash test/vectors/kms/generate.sh`); the outputs are committed. Test-only keys: never use them
# for anything else. OpenSSL's `cms -encrypt -keyid` makes what KMS's CiphertextForRecipient is
# (EnvelopedData v2, one KeyTransRecipientInfo with a subjectKeyIdentifier, RSAES-OAEP SHA-256,
# AES-256-CBC); with `-stream` the output is BER with indefinite lengths and chunked content, as
# KMS sends it.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The recipient: an RSA-2048 key (PKCS#8 DER, what RecipientKey::from_pkcs8_der reads) and a
# self-signed certificate carrying its subjectKeyIdentifier (openssl needs a certificate to encrypt).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/recipient.pem" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$tmp/recipient.pem" -outform DER -out recipient-key.pk8.der
openssl req -x509 -new -key "$tmp/recipient.pem" -subj "/CN=sentinel kms test recipient" -days 3650 \
  -out "$tmp/recipient-cert.pem" 2>/dev/null

# The content: a 32-byte data key, 0x00..0x1f.
python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(32)))' >"$tmp/key.bin"
oaep=(-keyopt rsa_padding_mode:oaep -keyopt rsa_oaep_md:sha256 -keyopt rsa_mgf1_md:sha256)
openssl cms -encrypt -binary -aes256 -keyid -recip "$tmp/recipient-cert.pem" "${oaep[@]}" \
  -stream -outform DER -in "$tmp/key.bin" -out envelope-ber.der
openssl cms -encrypt -binary -aes256 -keyid -recip "$tmp/recipient-cert.pem" "${oaep[@]}" \
  -outform DER -in "$tmp/key.bin" -out envelope-der.der
# OAEP with SHA-1 (RFC 8017's default parameters): must be refused.
openssl cms -encrypt -binary -aes256 -keyid -recip "$tmp/recipient-cert.pem" -keyopt rsa_padding_mode:oaep \
  -outform DER -in "$tmp/key.bin" -out envelope-oaep-sha1.der
# AES-128-CBC content: must be refused.
openssl cms -encrypt -binary -aes128 -keyid -recip "$tmp/recipient-cert.pem" "${oaep[@]}" \
  -outform DER -in "$tmp/key.bin" -out envelope-aes128.der
# Cross-check: OpenSSL opens its own envelopes to the key.
for f in envelope-ber.der envelope-der.der; do
  openssl cms -decrypt -binary -inform DER -in "$f" -inkey "$tmp/recipient.pem" -recip "$tmp/recipient-cert.pem" \
    | cmp - "$tmp/key.bin"
done

# TLS: a test CA and a server certificate for "localhost" (P-256), ten years from the run date.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ca.pem"
openssl req -x509 -new -key "$tmp/ca.pem" -subj "/CN=sentinel kms test CA" -days 3650 \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -outform DER -out tls-ca.der
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/server.pem"
openssl pkcs8 -topk8 -nocrypt -in "$tmp/server.pem" -outform DER -out tls-server-key.pk8.der
openssl req -new -key "$tmp/server.pem" -subj "/CN=localhost" -out "$tmp/server.csr"
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n' >"$tmp/ext"
openssl x509 -req -in "$tmp/server.csr" -CA tls-ca.der -CAform DER -CAkey "$tmp/ca.pem" -days 3650 \
  -extfile "$tmp/ext" -outform DER -out tls-server-cert.der 2>/dev/null
openssl x509 -inform DER -in tls-server-cert.der -noout -dates
sha256sum ./*.der >SHA256SUMS
