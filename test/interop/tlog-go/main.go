// Command tlog-go checks Sentinel's audit log formats with Go's own
// implementations, golang.org/x/mod/sumdb/note (C2SP signed notes, Ed25519)
// and golang.org/x/mod/sumdb/tlog (RFC 6962 trees and proofs). It reads one
// JSON request on stdin:
//
//	{"op":"verify","vkey":V,"note":N,"inclusion":[{"index":i,"leaf":B64,"proof":[B64...]}],
//	 "consistency":[{"size":n,"root":B64,"proof":[B64...]}]}
//	    opens the checkpoint note N with verifier key V (note.NewVerifier, note.Open),
//	    reads the c2sp.org/tlog-checkpoint text (origin = key name, size, root), checks each
//	    inclusion proof of the leaf data with tlog.CheckRecord and each consistency proof from
//	    an older tree with tlog.CheckTree; prints "OK <origin> <size> <root>".
//	{"op":"sign","name":NAME,"text":T}
//	    generates a key (note.GenerateKey), signs T (note.NewSigner, note.Sign) and prints
//	    {"vkey":V,"note":N}.
//	{"op":"tree","leaves":[B64...]}
//	    builds the tree with tlog.StoredHashes and prints, for every size n, the root
//	    (tlog.TreeHash), the inclusion proof of every leaf (tlog.ProveRecord) and the
//	    consistency proof from every smaller non-empty size (tlog.ProveTree).
//
// On any failure it prints "FAIL: <reason>" on stderr and exits 1.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type proofJSON struct {
	Index int64    `json:"index"`
	Size  int64    `json:"size"`
	Leaf  string   `json:"leaf"`
	Root  string   `json:"root"`
	Proof []string `json:"proof"`
}

type request struct {
	Op          string      `json:"op"`
	Vkey        string      `json:"vkey"`
	Note        string      `json:"note"`
	Name        string      `json:"name"`
	Text        string      `json:"text"`
	Leaves      []string    `json:"leaves"`
	Inclusion   []proofJSON `json:"inclusion"`
	Consistency []proofJSON `json:"consistency"`
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func hash(b64 string) (tlog.Hash, error) {
	var h tlog.Hash
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != len(h) {
		return h, fmt.Errorf("not base64 of %d bytes: %q", len(h), b64)
	}
	copy(h[:], raw)
	return h, nil
}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		h, err := hash(s)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// checkpoint reads a c2sp.org/tlog-checkpoint note text.
func checkpoint(text string) (origin string, size int64, root tlog.Hash, err error) {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if !strings.HasSuffix(text, "\n") || len(lines) < 3 {
		return "", 0, root, fmt.Errorf("checkpoint: needs origin, size and root lines")
	}
	size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || strconv.FormatInt(size, 10) != lines[1] {
		return "", 0, root, fmt.Errorf("checkpoint: bad tree size %q", lines[1])
	}
	root, err = hash(lines[2])
	if err != nil {
		return "", 0, root, fmt.Errorf("checkpoint: root hash: %v", err)
	}
	return lines[0], size, root, nil
}

type hashReader []tlog.Hash

func (h hashReader) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(h)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = h[x]
	}
	return out, nil
}

func enc(list []tlog.Hash) []string {
	out := make([]string, len(list))
	for i, h := range list {
		out[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return out
}

func main() {
	var req request
	dec := json.NewDecoder(os.Stdin)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		fail("request: %v", err)
	}
	switch req.Op {
	case "verify":
		verifier, err := note.NewVerifier(req.Vkey)
		if err != nil {
			fail("verifier key: %v", err)
		}
		n, err := note.Open([]byte(req.Note), note.VerifierList(verifier))
		if err != nil {
			fail("note signature: %v", err)
		}
		origin, size, root, err := checkpoint(n.Text)
		if err != nil {
			fail("%v", err)
		}
		if origin != verifier.Name() {
			fail("checkpoint: origin %q is not the key name %q", origin, verifier.Name())
		}
		for _, p := range req.Inclusion {
			leaf, err := base64.StdEncoding.DecodeString(p.Leaf)
			if err != nil {
				fail("inclusion %d: leaf: %v", p.Index, err)
			}
			proof, err := hashes(p.Proof)
			if err != nil {
				fail("inclusion %d: %v", p.Index, err)
			}
			if err := tlog.CheckRecord(proof, size, root, p.Index, tlog.RecordHash(leaf)); err != nil {
				fail("inclusion %d: %v", p.Index, err)
			}
		}
		for _, p := range req.Consistency {
			old, err := hash(p.Root)
			if err != nil {
				fail("consistency from %d: %v", p.Size, err)
			}
			proof, err := hashes(p.Proof)
			if err != nil {
				fail("consistency from %d: %v", p.Size, err)
			}
			if err := tlog.CheckTree(proof, size, root, p.Size, old); err != nil {
				fail("consistency from %d: %v", p.Size, err)
			}
		}
		fmt.Printf("OK %s %d %s\n", origin, size, base64.StdEncoding.EncodeToString(root[:]))
	case "sign":
		skey, vkey, err := note.GenerateKey(rand.Reader, req.Name)
		if err != nil {
			fail("generate key: %v", err)
		}
		signer, err := note.NewSigner(skey)
		if err != nil {
			fail("signer: %v", err)
		}
		msg, err := note.Sign(&note.Note{Text: req.Text}, signer)
		if err != nil {
			fail("sign: %v", err)
		}
		out, _ := json.Marshal(map[string]string{"vkey": vkey, "note": string(msg)})
		fmt.Println(string(out))
	case "tree":
		var stored hashReader
		for i, b64 := range req.Leaves {
			leaf, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				fail("leaf %d: %v", i, err)
			}
			hs, err := tlog.StoredHashes(int64(i), leaf, stored)
			if err != nil {
				fail("leaf %d: %v", i, err)
			}
			stored = append(stored, hs...)
		}
		type sizeJSON struct {
			Size        int64      `json:"size"`
			Root        string     `json:"root"`
			Inclusion   [][]string `json:"inclusion"`
			Consistency [][]string `json:"consistency"`
		}
		var out []sizeJSON
		for t := int64(1); t <= int64(len(req.Leaves)); t++ {
			root, err := tlog.TreeHash(t, stored)
			if err != nil {
				fail("tree hash %d: %v", t, err)
			}
			s := sizeJSON{Size: t, Root: base64.StdEncoding.EncodeToString(root[:])}
			for n := int64(0); n < t; n++ {
				p, err := tlog.ProveRecord(t, n, stored)
				if err != nil {
					fail("prove record %d in %d: %v", n, t, err)
				}
				s.Inclusion = append(s.Inclusion, enc(p))
			}
			for n := int64(1); n <= t; n++ {
				p, err := tlog.ProveTree(t, n, stored)
				if err != nil {
					fail("prove tree %d in %d: %v", n, t, err)
				}
				s.Consistency = append(s.Consistency, enc(p))
			}
			out = append(out, s)
		}
		var buf bytes.Buffer
		if err := json.NewEncoder(&buf).Encode(out); err != nil {
			fail("encode: %v", err)
		}
		os.Stdout.Write(buf.Bytes())
	default:
		fail("unknown op %q", req.Op)
	}
}
