// Command cose-go verifies a Sentinel receipt with libraries that are not
// Sentinel's: github.com/veraison/go-cose (COSE_Sign1, Ed25519 and ES384),
// github.com/fxamacker/cbor (strict decoding and RFC 8949 core deterministic
// encoding) and Go's crypto/x509. It is written from docs/receipts.md alone
// and shares no code with crates/evidence.
//
//	cose-go -root ROOT.der -at UNIX_MS RECEIPT.cbor DOCUMENT.cbor
//
// It checks, in the order of docs/receipts.md: the document's ES384 COSE
// signature with its leaf certificate and the leaf's chain to ROOT at the
// time UNIX_MS; the attested key bundle and user_data layouts;
// the receipt's envelope and headers; the claims' shape and deterministic
// encoding (and the oversight claims' values, and key_storage, the one key
// that is left out rather than null); attestation_hash, config_hash
// and policy_hash; the Ed25519
// signature. On
// success it prints the claims as JSON (snake_case keys, bytes as 0x hex) and
// exits 0; on any failure it prints "FAIL: <reason>" to stderr and exits 1.
package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"
)

// The attestation document payload (AWS Nitro format), the fields used here.
type attestationDoc struct {
	ModuleID    string          `cbor:"module_id"`
	Digest      string          `cbor:"digest"`
	Timestamp   uint64          `cbor:"timestamp"`
	PCRs        map[int][]byte  `cbor:"pcrs"`
	Certificate []byte          `cbor:"certificate"`
	CABundle    [][]byte        `cbor:"cabundle"`
	PublicKey   []byte          `cbor:"public_key"`
	UserData    []byte          `cbor:"user_data"`
	Nonce       cbor.RawMessage `cbor:"nonce"`
}

// One rules_evaluated entry, docs/receipts.md "rules_evaluated entries".
// Pointers are the fields that may be null.
type rule struct {
	Rule   string  `cbor:"rule" json:"rule"`
	Type   string  `cbor:"type" json:"type"`
	Result string  `cbor:"result" json:"result"`
	Value  *string `cbor:"value" json:"value"`
	Limit  *string `cbor:"limit" json:"limit"`
	Window *string `cbor:"window" json:"window"`
	Detail *string `cbor:"detail" json:"detail"`
}

// Limits of rules_evaluated and of the oversight claims (docs/receipts.md).
const (
	maxRules           = 64
	maxRuleTextLen     = 256
	maxApprovals       = 16
	maxAuditCheckpoint = 1024
	maxTimestampUs     = 1<<53 - 1
	maxApprovalIDLen   = 64
	maxOversightScope  = 128
)

// The receipt claims, docs/receipts.md "The claims". Pointers (and nil
// byte slices) are the fields that may be null.
type claims struct {
	Op              string   `cbor:"op" json:"op"`
	Code            *string  `cbor:"code" json:"code"`
	KeyID           *string  `cbor:"key_id" json:"key_id"`
	Decision        string   `cbor:"decision" json:"decision"`
	Principal       string   `cbor:"principal" json:"principal"`
	RequestID       []byte   `cbor:"request_id" json:"-"`
	ConfigHash      []byte   `cbor:"config_hash" json:"-"`
	PolicyHash      []byte   `cbor:"policy_hash" json:"-"`
	ResultHash      []byte   `cbor:"result_hash" json:"-"`
	PayloadHash     []byte   `cbor:"payload_hash" json:"-"`
	TimestampUs     uint64   `cbor:"timestamp_us" json:"timestamp_us"`
	RulesEvaluated  []rule   `cbor:"rules_evaluated" json:"rules_evaluated"`
	AttestationHash []byte   `cbor:"attestation_hash" json:"-"`
	Approvals       []string `cbor:"approvals" json:"approvals"`
	OversightState  string   `cbor:"oversight_state" json:"oversight_state"`
	OversightScope  string   `cbor:"oversight_scope" json:"oversight_scope"`
	AuditSeq        *uint64  `cbor:"audit_seq" json:"audit_seq"`
	AuditCheckpoint *string  `cbor:"audit_checkpoint" json:"audit_checkpoint"`
	// Absent (not null) unless the answer created a key; nil here either way, so
	// decodeReceipt tells absent from null with the generic map.
	KeyStorage *string `cbor:"key_storage" json:"key_storage"`
}

// The values key_storage may take (docs/receipts.md).
var keyStorages = map[string]bool{"sealed:aws-kms": true, "sealed:development": true, "ephemeral": true}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func hex0x(b []byte) string { return "0x" + hex.EncodeToString(b) }

func main() {
	rootPath := flag.String("root", "", "trusted root certificate (DER)")
	atMs := flag.Int64("at", 0, "time to judge the certificate chain at, Unix ms")
	flag.Parse()
	if flag.NArg() != 2 || *rootPath == "" || *atMs <= 0 {
		fmt.Fprintln(os.Stderr, "usage: cose-go -root ROOT.der -at UNIX_MS RECEIPT.cbor DOCUMENT.cbor")
		os.Exit(2)
	}
	receipt := mustRead(flag.Arg(0))
	document := mustRead(flag.Arg(1))
	root := mustRead(*rootPath)

	doc, err := verifyDocument(document, root, time.UnixMilli(*atMs))
	if err != nil {
		fail("attestation document: %v", err)
	}
	// The attested key bundle: 0x02 || receipt (Ed25519) || session || import || audit (Ed25519).
	if len(doc.PublicKey) != 129 || doc.PublicKey[0] != 0x02 {
		fail("public_key is not a version-2 attested key bundle (%d bytes)", len(doc.PublicKey))
	}
	receiptKey := ed25519.PublicKey(doc.PublicKey[1:33])
	// user_data: 0x03 || config_hash || policy_hash (32 zero bytes: no policy).
	if len(doc.UserData) != 65 || doc.UserData[0] != 0x03 {
		fail("user_data is not 0x03 || config_hash || policy_hash (%d bytes)", len(doc.UserData))
	}
	configHash := doc.UserData[1:33]
	var policyHash []byte
	if !bytes.Equal(doc.UserData[33:], make([]byte, 32)) {
		policyHash = doc.UserData[33:]
	}

	msg, c, err := decodeReceipt(receipt)
	if err != nil {
		fail("receipt: %v", err)
	}
	documentHash := sha256.Sum256(document)
	if !bytes.Equal(c.AttestationHash, documentHash[:]) {
		fail("attestation_hash is not SHA-256 of the document")
	}
	if !bytes.Equal(c.ConfigHash, configHash) {
		fail("config_hash differs from the document's user_data")
	}
	if (c.PolicyHash == nil) != (policyHash == nil) || !bytes.Equal(c.PolicyHash, policyHash) {
		fail("policy_hash differs from the document's user_data")
	}
	verifier, err := cose.NewVerifier(cose.AlgorithmEdDSA, receiptKey)
	if err != nil {
		fail("receipt key: %v", err)
	}
	if err := msg.Verify(nil, verifier); err != nil {
		fail("receipt signature: %v", err)
	}

	rules := c.RulesEvaluated
	if rules == nil {
		rules = []rule{}
	}
	approvals := c.Approvals
	if approvals == nil {
		approvals = []string{}
	}
	out := map[string]any{
		"op": c.Op, "code": c.Code, "key_id": c.KeyID, "decision": c.Decision, "principal": c.Principal,
		"request_id": hex0x(c.RequestID), "config_hash": hex0x(c.ConfigHash), "payload_hash": hex0x(c.PayloadHash),
		"timestamp_us": c.TimestampUs, "rules_evaluated": rules, "approvals": approvals,
		"oversight_state": c.OversightState, "oversight_scope": c.OversightScope,
		"audit_seq": c.AuditSeq, "audit_checkpoint": c.AuditCheckpoint, "key_storage": c.KeyStorage,
		"attestation_hash": hex0x(c.AttestationHash), "result_hash": nil, "policy_hash": nil,
		"module_id": doc.ModuleID, "receipt_key": hex0x(receiptKey),
	}
	if c.ResultHash != nil {
		out["result_hash"] = hex0x(c.ResultHash)
	}
	if c.PolicyHash != nil {
		out["policy_hash"] = hex0x(c.PolicyHash)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("output: %v", err)
	}
}

func mustRead(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("%v", err)
	}
	return b
}

// verifyDocument checks the Nitro document's COSE_Sign1 (untagged, ES384)
// with its leaf certificate, and the leaf's chain: cabundle[0] must be the
// trusted root, cabundle[1..] are intermediates.
func verifyDocument(document, root []byte, at time.Time) (*attestationDoc, error) {
	var msg cose.UntaggedSign1Message
	if err := msg.UnmarshalCBOR(document); err != nil {
		return nil, fmt.Errorf("not an untagged COSE_Sign1: %w", err)
	}
	if alg, err := msg.Headers.Protected.Algorithm(); err != nil || alg != cose.AlgorithmES384 {
		return nil, fmt.Errorf("protected header alg is not ES384 (%v, %v)", alg, err)
	}
	var doc attestationDoc
	if err := cbor.Unmarshal(msg.Payload, &doc); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if len(doc.CABundle) == 0 || !bytes.Equal(doc.CABundle[0], root) {
		return nil, errors.New("cabundle[0] is not the trusted root")
	}
	leaf, err := x509.ParseCertificate(doc.Certificate)
	if err != nil {
		return nil, fmt.Errorf("leaf certificate: %w", err)
	}
	rootCert, err := x509.ParseCertificate(root)
	if err != nil {
		return nil, fmt.Errorf("root certificate: %w", err)
	}
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(rootCert)
	for _, der := range doc.CABundle[1:] {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("cabundle certificate: %w", err)
		}
		intermediates.AddCert(cert)
	}
	_, err = leaf.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: intermediates, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return nil, fmt.Errorf("certificate chain: %w", err)
	}
	key, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("leaf key is not ECDSA")
	}
	verifier, err := cose.NewVerifier(cose.AlgorithmES384, key)
	if err != nil {
		return nil, err
	}
	if err := msg.Verify(nil, verifier); err != nil {
		return nil, fmt.Errorf("COSE signature: %w", err)
	}
	return &doc, nil
}

// decodeReceipt parses the tagged COSE_Sign1 and its claims, strictly.
func decodeReceipt(receipt []byte) (*cose.Sign1Message, *claims, error) {
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(receipt); err != nil {
		return nil, nil, fmt.Errorf("not a tagged COSE_Sign1: %w", err)
	}
	// Protected header exactly {1: -8}, unprotected header empty.
	if !bytes.Equal(msg.Headers.RawProtected, []byte{0x43, 0xa1, 0x01, 0x27}) {
		return nil, nil, fmt.Errorf("protected header is not h'a10127' ({1: -8}): %x", []byte(msg.Headers.RawProtected))
	}
	if alg, err := msg.Headers.Protected.Algorithm(); err != nil || alg != cose.AlgorithmEdDSA {
		return nil, nil, fmt.Errorf("alg is not EdDSA (%v, %v)", alg, err)
	}
	if len(msg.Headers.Unprotected) != 0 {
		return nil, nil, errors.New("unprotected header is not empty")
	}
	if len(msg.Signature) != ed25519.SignatureSize {
		return nil, nil, fmt.Errorf("signature is %d bytes", len(msg.Signature))
	}
	strict, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
	}.DecMode()
	if err != nil {
		return nil, nil, err
	}
	// Every key must be present (null when absent), but key_storage, which is
	// left out when the answer created no key: check the key sets first.
	var generic map[string]cbor.RawMessage
	if err := strict.Unmarshal(msg.Payload, &generic); err != nil {
		return nil, nil, fmt.Errorf("claims: %w", err)
	}
	rawStorage, stored := generic["key_storage"]
	want := 18
	if stored {
		want = 19
	}
	if len(generic) != want {
		return nil, nil, fmt.Errorf("claims: %d keys, want %d", len(generic), want)
	}
	var genericRules []map[string]cbor.RawMessage
	if err := strict.Unmarshal(generic["rules_evaluated"], &genericRules); err != nil {
		return nil, nil, fmt.Errorf("claims: rules_evaluated: %w", err)
	}
	if len(genericRules) > maxRules {
		return nil, nil, fmt.Errorf("claims: rules_evaluated has %d entries, at most %d", len(genericRules), maxRules)
	}
	for i, r := range genericRules {
		if len(r) != 7 {
			return nil, nil, fmt.Errorf("claims: rules_evaluated[%d] has %d keys, want 7", i, len(r))
		}
	}
	var c claims
	if err := strict.Unmarshal(msg.Payload, &c); err != nil {
		return nil, nil, fmt.Errorf("claims: %w", err)
	}
	for name, b := range map[string][]byte{"request_id": c.RequestID, "config_hash": c.ConfigHash,
		"payload_hash": c.PayloadHash, "attestation_hash": c.AttestationHash} {
		want := 32
		if name == "request_id" {
			want = 16
		}
		if len(b) != want {
			return nil, nil, fmt.Errorf("claims: %s is %d bytes, want %d", name, len(b), want)
		}
	}
	if c.ResultHash != nil && len(c.ResultHash) != 32 {
		return nil, nil, fmt.Errorf("claims: result_hash is %d bytes", len(c.ResultHash))
	}
	if c.PolicyHash != nil && len(c.PolicyHash) != 32 {
		return nil, nil, fmt.Errorf("claims: policy_hash is %d bytes", len(c.PolicyHash))
	}
	for i, r := range c.RulesEvaluated {
		for _, text := range []*string{&r.Rule, &r.Type, &r.Result, r.Value, r.Limit, r.Window, r.Detail} {
			if text != nil && len(*text) > maxRuleTextLen {
				return nil, nil, fmt.Errorf("claims: rules_evaluated[%d] has a text of %d bytes", i, len(*text))
			}
		}
	}
	if c.Decision != "allowed" && c.Decision != "denied" {
		return nil, nil, fmt.Errorf("claims: decision %q", c.Decision)
	}
	// approvals must be an array (never null): the generic decode keeps the raw item.
	if raw := generic["approvals"]; len(raw) == 0 || raw[0]>>5 != 4 {
		return nil, nil, errors.New("claims: approvals is not an array")
	}
	if len(c.Approvals) > maxApprovals {
		return nil, nil, fmt.Errorf("claims: approvals has %d entries, at most %d", len(c.Approvals), maxApprovals)
	}
	for i, id := range c.Approvals {
		if len(id) == 0 || len(id) > maxApprovalIDLen {
			return nil, nil, fmt.Errorf("claims: approvals[%d] is %d bytes", i, len(id))
		}
		if i > 0 && c.Approvals[i-1] >= id {
			return nil, nil, fmt.Errorf("claims: approvals not in strictly ascending order at %d", i)
		}
	}
	switch c.OversightState {
	case "green", "yellow", "red":
	default:
		return nil, nil, fmt.Errorf("claims: oversight_state %q", c.OversightState)
	}
	scope := c.OversightScope
	scoped := (strings.HasPrefix(scope, "key:") && len(scope) > len("key:")) ||
		(strings.HasPrefix(scope, "principal:") && len(scope) > len("principal:"))
	if len(scope) > maxOversightScope || (scope != "global" && !scoped) {
		return nil, nil, fmt.Errorf("claims: oversight_scope %q", scope)
	}
	if c.AuditSeq != nil && *c.AuditSeq > maxTimestampUs {
		return nil, nil, fmt.Errorf("claims: audit_seq %d over 2^53-1", *c.AuditSeq)
	}
	if c.AuditCheckpoint != nil && len(*c.AuditCheckpoint) > maxAuditCheckpoint {
		return nil, nil, fmt.Errorf("claims: audit_checkpoint is %d bytes", len(*c.AuditCheckpoint))
	}
	// key_storage, when there, is one of its values: never null (0xf6), never another type.
	if stored && (len(rawStorage) == 0 || rawStorage[0]>>5 != 3 || c.KeyStorage == nil || !keyStorages[*c.KeyStorage]) {
		return nil, nil, fmt.Errorf("claims: key_storage %x is not one of its values", []byte(rawStorage))
	}
	// Re-encode in RFC 8949 core deterministic form: the payload must be exactly that.
	canonical, err := canonicalClaims(&c)
	if err != nil {
		return nil, nil, err
	}
	if !bytes.Equal(canonical, msg.Payload) {
		return nil, nil, errors.New("claims are not in core deterministic encoding")
	}
	return &msg, &c, nil
}

func nullableUint(n *uint64) any {
	if n == nil {
		return nil
	}
	return *n
}

func canonicalClaims(c *claims) ([]byte, error) {
	enc, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		return nil, err
	}
	nullable := func(s *string) any {
		if s == nil {
			return nil
		}
		return *s
	}
	nullableBytes := func(b []byte) any {
		if b == nil {
			return nil
		}
		return b
	}
	approvals := []any{}
	for _, id := range c.Approvals {
		approvals = append(approvals, id)
	}
	rules := []any{}
	for _, r := range c.RulesEvaluated {
		rules = append(rules, map[string]any{
			"rule": r.Rule, "type": r.Type, "result": r.Result, "value": nullable(r.Value),
			"limit": nullable(r.Limit), "window": nullable(r.Window), "detail": nullable(r.Detail),
		})
	}
	m := map[string]any{
		"op": c.Op, "code": nullable(c.Code), "key_id": nullable(c.KeyID), "decision": c.Decision,
		"principal": c.Principal, "request_id": c.RequestID, "config_hash": c.ConfigHash,
		"policy_hash": nullableBytes(c.PolicyHash), "result_hash": nullableBytes(c.ResultHash),
		"payload_hash": c.PayloadHash, "timestamp_us": c.TimestampUs,
		"rules_evaluated": rules, "attestation_hash": c.AttestationHash,
		"approvals": approvals, "oversight_state": c.OversightState, "oversight_scope": c.OversightScope,
		"audit_seq": nullableUint(c.AuditSeq), "audit_checkpoint": nullable(c.AuditCheckpoint),
	}
	if c.KeyStorage != nil {
		m["key_storage"] = *c.KeyStorage
	}
	return enc.Marshal(m)
}
