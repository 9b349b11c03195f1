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
//	{"op":"tiles","leaves":[B64...],"old":m,"size":n}
//	    builds the tree of the first n leaves with tlog.StoredHashes and prints, for each tile
//	    tlog.NewTiles(8, m, n) names (every tile of the tree for m = 0), its c2sp.org/tlog-tiles
//	    path (sumdb's `tile/8/L/N[.p/W]` without the height), trillian-tessera's
//	    layout.TilePath and layout.PartialTileSize for it, and its bytes (tlog.ReadTileData);
//	    then every entry bundle's layout.EntriesPath and bytes (u16 big-endian length + entry,
//	    written here from the spec's text).
//	{"op":"read","vkey":V,"note":N,"tiles":{PATH:B64},"entries":{PATH:B64},
//	 "consistency":[{"size":m,"root":B64}],"indexes":[i...]}
//	    reads a log served as tlog-tiles from the given files only, as two clients would:
//	    sumdb (note.Open; every path through tlog.ParseTilePath; tlog.TileHashReader, which
//	    authenticates the tiles against the checkpoint's root; tlog.TreeHash; tlog.HashFromTile
//	    and tlog.ProveRecord / tlog.CheckRecord for every entry) and trillian-tessera
//	    (client.FetchCheckpoint; layout.ParseTileLevelIndexPartial / ParseTileIndexPartial on
//	    every path; client.GetEntryBundle and client.FetchLeafHashes; client.ProofBuilder proofs
//	    checked with transparency-dev/merkle's proof.VerifyInclusion / VerifyConsistency); prints
//	    the proofs both built as JSON.
//	    Only the entries listed in "indexes" (all when absent) are proven.
//	{"op":"paths","paths":[PATH...]}
//	    parses each path with sumdb's tlog.ParseTilePath (hash tiles, height 8 put back) and
//	    tessera's layout.ParseTileLevelIndexPartial / ParseTileIndexPartial and prints, per
//	    path, what each read ({"level","index","width"}) or null where it refused.
//
// On any failure it prints "FAIL: <reason>" on stderr and exits 1.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"
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
	Op          string            `json:"op"`
	Vkey        string            `json:"vkey"`
	Note        string            `json:"note"`
	Name        string            `json:"name"`
	Text        string            `json:"text"`
	Leaves      []string          `json:"leaves"`
	Old         int64             `json:"old"`
	Size        int64             `json:"size"`
	Tiles       map[string]string `json:"tiles"`
	Entries     map[string]string `json:"entries"`
	Indexes     []int64           `json:"indexes"`
	Paths       []string          `json:"paths"`
	Inclusion   []proofJSON       `json:"inclusion"`
	Consistency []proofJSON       `json:"consistency"`
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
	case "tiles":
		tiles(&req)
	case "read":
		read(&req)
	case "paths":
		paths(&req)
	default:
		fail("unknown op %q", req.Op)
	}
}

// sumdbPath is a sumdb tile path (`tile/8/L/N[.p/W]`) in tlog-tiles form (`tile/L/N[.p/W]`).
func sumdbPath(t tlog.Tile) string {
	p := t.Path()
	if !strings.HasPrefix(p, "tile/8/") {
		fail("tile %v: not of height 8", p)
	}
	return "tile/" + strings.TrimPrefix(p, "tile/8/")
}

// partial is tessera's width argument: 0 for a full tile.
func partial(w int) uint8 {
	if w == 1<<8 {
		return 0
	}
	return uint8(w)
}

func tiles(req *request) {
	var stored hashReader
	var records [][]byte
	for i, b64 := range req.Leaves {
		leaf, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			fail("leaf %d: %v", i, err)
		}
		records = append(records, leaf)
		if int64(i) >= req.Size {
			continue
		}
		hs, err := tlog.StoredHashes(int64(i), leaf, stored)
		if err != nil {
			fail("leaf %d: %v", i, err)
		}
		stored = append(stored, hs...)
	}
	if req.Size > int64(len(records)) {
		fail("size %d is over the %d leaves", req.Size, len(records))
	}
	type tileJSON struct {
		Path        string `json:"path"`
		TesseraPath string `json:"tessera_path"`
		Partial     uint8  `json:"tessera_partial"`
		Data        string `json:"data"`
	}
	out := struct {
		Tiles   []tileJSON `json:"tiles"`
		Entries []tileJSON `json:"entries"`
	}{Tiles: []tileJSON{}, Entries: []tileJSON{}}
	for _, t := range tlog.NewTiles(8, req.Old, req.Size) {
		data, err := tlog.ReadTileData(t, stored)
		if err != nil {
			fail("read tile %v: %v", t.Path(), err)
		}
		out.Tiles = append(out.Tiles, tileJSON{
			Path:        sumdbPath(t),
			TesseraPath: layout.TilePath(uint64(t.L), uint64(t.N), partial(t.W)),
			Partial:     layout.PartialTileSize(uint64(t.L), uint64(t.N), uint64(req.Size)),
			Data:        base64.StdEncoding.EncodeToString(data),
		})
	}
	for n := uint64(0); n*256 < uint64(req.Size); n++ {
		p := layout.PartialTileSize(0, n, uint64(req.Size))
		end := min((n+1)*256, uint64(req.Size))
		var bundle []byte
		for _, e := range records[n*256 : end] {
			bundle = binary.BigEndian.AppendUint16(bundle, uint16(len(e)))
			bundle = append(bundle, e...)
		}
		out.Entries = append(out.Entries, tileJSON{
			TesseraPath: layout.EntriesPath(n, p),
			Partial:     p,
			Data:        base64.StdEncoding.EncodeToString(bundle),
		})
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("encode: %v", err)
	}
}

// fileTiles serves tiles from the request's files, by sumdb tile path, as a tlog.TileReader.
type fileTiles map[string][]byte

func (f fileTiles) Height() int { return 8 }

func (f fileTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, ok := f[sumdbPath(t)]
		if !ok {
			return nil, fmt.Errorf("no tile %s", sumdbPath(t))
		}
		out[i] = data
	}
	return out, nil
}

func (f fileTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func files(list map[string]string, what string) map[string][]byte {
	out := make(map[string][]byte, len(list))
	for path, b64 := range list {
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			fail("%s %s: %v", what, path, err)
		}
		out[path] = data
	}
	return out
}

func b64s(list [][]byte) []string {
	out := make([]string, len(list))
	for i, h := range list {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}

func read(req *request) {
	ctx := context.Background()
	verifier, err := note.NewVerifier(req.Vkey)
	if err != nil {
		fail("verifier key: %v", err)
	}
	tileFiles := fileTiles(files(req.Tiles, "tile"))
	entryFiles := files(req.Entries, "entry bundle")

	// Every path parses, in both libraries, to what it names.
	for path := range tileFiles {
		rest, ok := strings.CutPrefix(path, "tile/")
		if !ok {
			fail("tile path %s: no tile/ prefix", path)
		}
		t, err := tlog.ParseTilePath("tile/8/" + rest)
		if err != nil {
			fail("sumdb ParseTilePath %s: %v", path, err)
		}
		level, index, _ := strings.Cut(rest, "/")
		l, n, p, err := layout.ParseTileLevelIndexPartial(level, index)
		if err != nil {
			fail("tessera ParseTileLevelIndexPartial %s: %v", path, err)
		}
		if int(l) != t.L || int64(n) != t.N || p != partial(t.W) || layout.TilePath(l, n, p) != path {
			fail("tile path %s: sumdb reads %v, tessera %d/%d/%d", path, t, l, n, p)
		}
		if len(tileFiles[path]) != t.W*tlog.HashSize {
			fail("tile %s: %d bytes for width %d", path, len(tileFiles[path]), t.W)
		}
		var ht api.HashTile
		if err := ht.UnmarshalText(tileFiles[path]); err != nil || len(ht.Nodes) != t.W {
			fail("tessera HashTile %s: %v (%d nodes)", path, err, len(ht.Nodes))
		}
	}
	for path := range entryFiles {
		index, ok := strings.CutPrefix(path, "tile/entries/")
		if !ok {
			fail("entry bundle path %s: no tile/entries/ prefix", path)
		}
		n, p, err := layout.ParseTileIndexPartial(index)
		if err != nil || layout.EntriesPath(n, p) != path {
			fail("tessera ParseTileIndexPartial %s: %v", path, err)
		}
	}

	// sumdb: the checkpoint, then everything through tiles it authenticates.
	opened, err := note.Open([]byte(req.Note), note.VerifierList(verifier))
	if err != nil {
		fail("note signature: %v", err)
	}
	origin, size, root, err := checkpoint(opened.Text)
	if err != nil {
		fail("%v", err)
	}
	tree := tlog.Tree{N: size, Hash: root}
	thr := tlog.TileHashReader(tree, tileFiles)
	if th, err := tlog.TreeHash(size, thr); err != nil || th != root {
		fail("sumdb tree hash of size %d: %v (got %v)", size, err, th)
	}

	// tessera: the checkpoint through its own parser, entries through its bundle reader.
	cp, _, _, err := client.FetchCheckpoint(ctx, func(context.Context) ([]byte, error) { return []byte(req.Note), nil }, verifier, origin)
	if err != nil {
		fail("tessera FetchCheckpoint: %v", err)
	}
	if cp.Size != uint64(size) || !bytes.Equal(cp.Hash, root[:]) {
		fail("tessera reads the checkpoint as size %d, root %x", cp.Size, cp.Hash)
	}
	tileFetcher := func(_ context.Context, level, index uint64, p uint8) ([]byte, error) {
		data, ok := tileFiles[layout.TilePath(level, index, p)]
		if !ok {
			return nil, fmt.Errorf("no tile %s: %w", layout.TilePath(level, index, p), os.ErrNotExist)
		}
		return data, nil
	}
	entryFetcher := func(_ context.Context, index uint64, p uint8) ([]byte, error) {
		data, ok := entryFiles[layout.EntriesPath(index, p)]
		if !ok {
			return nil, fmt.Errorf("no entry bundle %s: %w", layout.EntriesPath(index, p), os.ErrNotExist)
		}
		return data, nil
	}
	var entries [][]byte
	for n := uint64(0); n*256 < cp.Size; n++ {
		bundle, err := client.GetEntryBundle(ctx, entryFetcher, n, cp.Size)
		if err != nil {
			fail("tessera GetEntryBundle %d: %v", n, err)
		}
		want := min(cp.Size-n*256, 256)
		if uint64(len(bundle.Entries)) != want {
			fail("entry bundle %d: %d entries, want %d", n, len(bundle.Entries), want)
		}
		entries = append(entries, bundle.Entries...)
	}
	leafHashes, err := client.FetchLeafHashes(ctx, tileFetcher, 0, cp.Size, cp.Size)
	if err != nil {
		fail("tessera FetchLeafHashes: %v", err)
	}
	pb, err := client.NewProofBuilder(ctx, cp.Size, tileFetcher)
	if err != nil {
		fail("tessera ProofBuilder: %v", err)
	}

	type out struct {
		Origin      string     `json:"origin"`
		Size        int64      `json:"size"`
		Sumdb       [][]string `json:"sumdb_inclusion"`
		Tessera     [][]string `json:"tessera_inclusion"`
		Consistency [][]string `json:"tessera_consistency"`
	}
	o := out{Origin: origin, Size: size, Sumdb: [][]string{}, Tessera: [][]string{}, Consistency: [][]string{}}
	// Every entry hashes to its leaf hash, as sumdb reads it (authenticated against the root
	// through the tiles above it) and as tessera reads it (straight from the level-0 tile).
	leafIndexes := make([]int64, len(entries))
	for i := range entries {
		leafIndexes[i] = tlog.StoredHashIndex(0, int64(i))
	}
	sumdbLeaves, err := thr.ReadHashes(leafIndexes)
	if err != nil {
		fail("sumdb ReadHashes of the leaves: %v", err)
	}
	for i, entry := range entries {
		leaf := tlog.RecordHash(entry)
		if sumdbLeaves[i] != leaf {
			fail("entry %d: its hash is not sumdb's leaf hash", i)
		}
		if !bytes.Equal(leafHashes[i], leaf[:]) {
			fail("entry %d: its hash is not tessera's leaf hash", i)
		}
	}
	indexes := req.Indexes
	if indexes == nil {
		for i := range entries {
			indexes = append(indexes, int64(i))
		}
	}
	for _, i := range indexes {
		if i < 0 || i >= int64(len(entries)) {
			fail("index %d: not an entry of the tree", i)
		}
		leaf := tlog.RecordHash(entries[i])
		// HashFromTile: the entry's hash as read from its level-0 tile at the published width.
		x := tlog.StoredHashIndex(0, int64(i))
		t := tlog.TileForIndex(8, x)
		t.W = int(layout.PartialTileSize(0, uint64(t.N), cp.Size))
		if t.W == 0 {
			t.W = 256
		}
		data, err := tileFiles.ReadTiles([]tlog.Tile{t})
		if err != nil {
			fail("entry %d: %v", i, err)
		}
		if h, err := tlog.HashFromTile(t, data[0], x); err != nil || h != leaf {
			fail("entry %d: sumdb HashFromTile: %v", i, err)
		}
		sp, err := tlog.ProveRecord(size, int64(i), thr)
		if err != nil {
			fail("sumdb ProveRecord %d: %v", i, err)
		}
		if err := tlog.CheckRecord(sp, size, root, int64(i), leaf); err != nil {
			fail("sumdb CheckRecord %d: %v", i, err)
		}
		tp, err := pb.InclusionProof(ctx, uint64(i))
		if err != nil {
			fail("tessera InclusionProof %d: %v", i, err)
		}
		if err := proof.VerifyInclusion(rfc6962.DefaultHasher, uint64(i), cp.Size, leaf[:], tp, cp.Hash); err != nil {
			fail("tessera inclusion %d: %v", i, err)
		}
		sumdbProof := make([][]byte, len(sp))
		for j := range sp {
			sumdbProof[j] = sp[j][:]
		}
		o.Sumdb = append(o.Sumdb, b64s(sumdbProof))
		o.Tessera = append(o.Tessera, b64s(tp))
	}
	for _, c := range req.Consistency {
		old, err := hash(c.Root)
		if err != nil {
			fail("consistency from %d: %v", c.Size, err)
		}
		cproof, err := pb.ConsistencyProof(ctx, uint64(c.Size), cp.Size)
		if err != nil {
			fail("tessera ConsistencyProof from %d: %v", c.Size, err)
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(c.Size), cp.Size, cproof, old[:], cp.Hash); err != nil {
			fail("tessera consistency from %d: %v", c.Size, err)
		}
		o.Consistency = append(o.Consistency, b64s(cproof))
	}
	if err := json.NewEncoder(os.Stdout).Encode(o); err != nil {
		fail("encode: %v", err)
	}
}

type coords struct {
	Level int64  `json:"level"`
	Index uint64 `json:"index"`
	Width int    `json:"width"`
}

func paths(req *request) {
	type result struct {
		Sumdb   *coords `json:"sumdb"`
		Tessera *coords `json:"tessera"`
	}
	out := make([]result, len(req.Paths))
	for i, path := range req.Paths {
		width := func(p uint8) int {
			if p == 0 {
				return 256
			}
			return int(p)
		}
		if index, ok := strings.CutPrefix(path, "tile/entries/"); ok {
			if n, p, err := layout.ParseTileIndexPartial(index); err == nil {
				out[i].Tessera = &coords{Level: -1, Index: n, Width: width(p)}
			}
			continue
		}
		rest, ok := strings.CutPrefix(path, "tile/")
		if !ok {
			continue
		}
		if t, err := tlog.ParseTilePath("tile/8/" + rest); err == nil && t.L >= 0 {
			out[i].Sumdb = &coords{Level: int64(t.L), Index: uint64(t.N), Width: t.W}
		}
		if level, index, ok := strings.Cut(rest, "/"); ok {
			if l, n, p, err := layout.ParseTileLevelIndexPartial(level, index); err == nil {
				out[i].Tessera = &coords{Level: int64(l), Index: n, Width: width(p)}
			}
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail("encode: %v", err)
	}
}
