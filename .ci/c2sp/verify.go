// An independent check of the service's C2SP checkpoint, a witness's cosignature of it, an
// inclusion proof, and the same proof rebuilt from the served tiles, with Go's own
// golang.org/x/mod/sumdb/note (signed notes), sumdb/tlog (RFC 6962 trees and tlog tiles) and
// crypto/ed25519: none of the project's code is used.
// Usage: verify VKEY WITNESS_VKEY NOTE_FILE PROOF_JSON_FILE, with TILES_URL (the service's
// /v1/audit/tile/ prefix) and TOKEN in the environment.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type proof struct {
	Seq       int64                  `json:"seq"`
	LeafIndex int64                  `json:"leaf_index"`
	TreeSize  int64                  `json:"tree_size"`
	LeafHash  string                 `json:"leaf_hash"`
	AuditPath []string               `json:"audit_path"`
	RootHash  string                 `json:"root_hash"`
	Entry     map[string]interface{} `json:"entry"`
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL: "+format+"\n", args...)
	os.Exit(1)
}

func hash(s string) tlog.Hash {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		fail("not a hex hash: %q", s)
	}
	var h tlog.Hash
	copy(h[:], b)
	return h
}

// A C2SP tlog-cosignature/v1 verifier, written from the specification: the key hash uses the
// type byte 0x04, the signature is an 8-byte big-endian timestamp then Ed25519 over
// "cosignature/v1\ntime <t>\n" and the note's text.
type cosignatureV1 struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (v cosignatureV1) Name() string    { return v.name }
func (v cosignatureV1) KeyHash() uint32 { return v.hash }
func (v cosignatureV1) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	signed := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	return ed25519.Verify(v.key, signed, sig[8:])
}

func witnessVerifier(vkey string) cosignatureV1 {
	parts := strings.SplitN(strings.TrimSpace(vkey), "+", 3)
	if len(parts) != 3 {
		fail("witness key: %q", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		fail("witness key is not a cosignature/v1 Ed25519 key: %q", vkey)
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	if hex.EncodeToString(h[:4]) != parts[1] {
		fail("witness key hash does not match its key: %q", vkey)
	}
	return cosignatureV1{name: parts[0], hash: binary.BigEndian.Uint32(h[:4]), key: ed25519.PublicKey(raw[1:])}
}

// Tiles fetched from the service; tlog checks every one against the signed root.
type tiles struct{ base, token string }

func (t tiles) Height() int { return 8 }
func (t tiles) SaveTiles([]tlog.Tile, [][]byte) {}
func (t tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, tile := range ts {
		url := t.base + strings.TrimPrefix(tile.Path(), "tile/8/")
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Authorization", "Bearer "+t.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			return nil, fmt.Errorf("GET %s: %d %v", url, resp.StatusCode, err)
		}
		out = append(out, body)
	}
	return out, nil
}

func main() {
	if len(os.Args) != 5 {
		fail("usage: verify VKEY WITNESS_VKEY NOTE_FILE PROOF_JSON_FILE")
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(os.Args[1]))
	if err != nil {
		fail("verifier key: %v", err)
	}
	witness := witnessVerifier(os.Args[2])
	msg, err := os.ReadFile(os.Args[3])
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier, witness))
	if err != nil {
		fail("the checkpoint note does not verify: %v", err)
	}
	cosigned := false
	for _, s := range n.Sigs {
		if s.Name == witness.name && s.Hash == witness.hash {
			cosigned = true
		}
	}
	if !cosigned {
		fail("the checkpoint carries no valid cosignature by %s", witness.name)
	}
	lines := strings.Split(strings.TrimSuffix(n.Text, "\n"), "\n")
	if len(lines) < 3 || lines[0] != verifier.Name() {
		fail("not a checkpoint of origin %q: %q", verifier.Name(), n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("tree size: %v", err)
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != 32 {
		fail("root hash: %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)

	raw, err := os.ReadFile(os.Args[4])
	if err != nil {
		fail("%v", err)
	}
	var p proof
	if err := json.Unmarshal(raw, &p); err != nil {
		fail("proof: %v", err)
	}
	if p.TreeSize != size || hash(p.RootHash) != root {
		fail("the proof is for tree %d %s, the note for %d %x", p.TreeSize, p.RootHash, size, root)
	}
	// The leaf from the entry itself: its canonical JSON (sorted keys, no HTML escaping: RFC
	// 8785 for the strings and integers a ledger entry holds) without `hash`, hashed as an
	// RFC 6962 leaf.
	delete(p.Entry, "hash")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p.Entry); err != nil {
		fail("entry: %v", err)
	}
	leaf := tlog.RecordHash(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	if leaf != hash(p.LeafHash) {
		fail("the entry's leaf hash %x is not the proof's %s", leaf, p.LeafHash)
	}
	var path tlog.RecordProof
	for _, h := range p.AuditPath {
		path = append(path, hash(h))
	}
	if err := tlog.CheckRecord(path, size, root, p.LeafIndex, leaf); err != nil {
		fail("inclusion proof of entry %d: %v", p.Seq, err)
	}
	// The same proof again, from the served tiles alone.
	reader := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, tiles{os.Getenv("TILES_URL"), os.Getenv("TOKEN")})
	fromTiles, err := tlog.ProveRecord(size, p.LeafIndex, reader)
	if err != nil {
		fail("a proof from the tiles: %v", err)
	}
	if err := tlog.CheckRecord(fromTiles, size, root, p.LeafIndex, leaf); err != nil {
		fail("the proof from the tiles of entry %d: %v", p.Seq, err)
	}
	fmt.Printf("ok: checkpoint %s size %d signed by the log and cosigned by %s; entry %d included, by the service's proof and by one built from its tiles\n", verifier.Name(), size, witness.name, p.Seq)
}
