package accesscode

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Codes issued before keyed hashing are stored as argon2id hashes in PHC
// form, $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>. They still open their
// case; a client who signs in with one gets it replaced by a keyed hash.
// Nothing writes them any more, so once the last one is gone none comes
// back.

// LegacyPrefix starts every argon2id hash; the store finds the hashes left
// by it.
const LegacyPrefix = "$argon2id$"

// The parameters every argon2id hash was written with: OWASP's minimum
// recommendation (19 MiB, two passes, one thread). Checking against no hash
// costs what checking against one of these does.
const (
	legacyTime    = 2
	legacyMemory  = 19 * 1024 // KiB
	legacyThreads = 1
	legacyKeyLen  = 32
)

// legacyDummySalt salts the computation that checks against no hash.
var legacyDummySalt = []byte("no hash, no salt")

// IsLegacy reports whether a stored hash is an argon2id hash from before
// keyed hashing.
func IsLegacy(hash string) bool { return strings.HasPrefix(hash, LegacyPrefix) }

// VerifyLegacy reports whether code matches an argon2id hash in PHC form.
// Given the empty hash it does the work of checking one of the hashes
// intake wrote and matches nothing. A code of the wrong form simply does
// not match, at once; an error means the stored hash is unusable.
func VerifyLegacy(code, phc string) (bool, error) {
	p := phcHash{time: legacyTime, memory: legacyMemory, threads: legacyThreads, salt: legacyDummySalt}
	if phc != "" {
		var err error
		if p, err = parsePHC(phc); err != nil {
			return false, err
		}
	}
	canonical, err := ParseAccessCode(code)
	if err != nil {
		return false, nil
	}
	keyLen := uint32(legacyKeyLen)
	if p.key != nil {
		keyLen = uint32(len(p.key))
	}
	key := argon2.IDKey([]byte(canonical), p.salt, p.time, p.memory, p.threads, keyLen)
	return p.key != nil && subtle.ConstantTimeCompare(key, p.key) == 1, nil
}

type phcHash struct {
	time, memory uint32
	threads      uint8
	salt, key    []byte
}

// parsePHC reads an argon2id hash. Its limits keep a corrupt row from
// asking for gigabytes of memory or hours of work.
func parsePHC(s string) (phcHash, error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phcHash{}, errors.New("access code hash: not an argon2id PHC string")
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return phcHash{}, fmt.Errorf("access code hash: unsupported version %q", parts[2])
	}
	var p phcHash
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.memory, p.time, p.threads) {
		return phcHash{}, fmt.Errorf("access code hash: bad parameters %q", parts[3])
	}
	if p.memory < 8 || p.memory > 1<<20 || p.time < 1 || p.time > 16 || p.threads < 1 {
		return phcHash{}, fmt.Errorf("access code hash: parameters %q out of range", parts[3])
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(p.salt) < 8 {
		return phcHash{}, errors.New("access code hash: bad salt")
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(p.key) < 16 || len(p.key) > 64 {
		return phcHash{}, errors.New("access code hash: bad key")
	}
	return p, nil
}
