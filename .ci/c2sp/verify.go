// An independent check of the service's C2SP checkpoint and an inclusion proof, with Go's own
// golang.org/x/mod/sumdb/note (signed notes) and sumdb/tlog (RFC 6962 trees): none of the
// project's code is used. Usage: verify VKEY NOTE_FILE PROOF_JSON_FILE
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

func main() {
	if len(os.Args) != 4 {
		fail("usage: verify VKEY NOTE_FILE PROOF_JSON_FILE")
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(os.Args[1]))
	if err != nil {
		fail("verifier key: %v", err)
	}
	msg, err := os.ReadFile(os.Args[2])
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(verifier))
	if err != nil {
		fail("the checkpoint note does not verify: %v", err)
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

	raw, err := os.ReadFile(os.Args[3])
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
	fmt.Printf("ok: checkpoint %s size %d verified by %s; entry %d included\n", verifier.Name(), size, verifier.Name(), p.Seq)
}
