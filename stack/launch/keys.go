package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ipnmediation/disputes/platform/sealed"
)

// Encrypting are the services that encrypt confidential text at rest and so
// need ENCRYPTION_KEYS.
var Encrypting = []string{"intake", "casework"}

// newEncryptionKeys gives every encrypting service without one a fresh key,
// intake fresh ACCESS_CODE_KEYS and the website fresh SESSION_KEYS unless
// they have them.
func (s *System) newEncryptionKeys() {
	for _, setting := range []*string{&s.AccessCodeKeys, &s.SessionKeys} {
		if *setting == "" {
			key, err := sealed.NewKeySetting("local")
			if err != nil {
				panic(err)
			}
			*setting = key
		}
	}
	if s.EncryptionKeys == nil {
		s.EncryptionKeys = map[string]string{}
	}
	for _, name := range Encrypting {
		if s.EncryptionKeys[name] == "" {
			key, err := sealed.NewKeySetting("local")
			if err != nil {
				panic(err)
			}
			s.EncryptionKeys[name] = key
		}
	}
}

// localEncryptionKeys reads each encrypting service's keys from
// dataDir/encryption-keys/<service>, writing a fresh key for a service that
// has none yet: make run's database keeps its cases from one run to the
// next, and they are unreadable without the keys of the run that wrote them.
func localEncryptionKeys(dataDir string) (map[string]string, error) {
	dir := filepath.Join(dataDir, "encryption-keys")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("encryption keys: %w", err)
	}
	out := map[string]string{}
	for _, name := range Encrypting {
		key, err := localKey(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("encryption keys: %w", err)
		}
		out[name] = key
	}
	return out, nil
}

// localAccessCodeKeys reads intake's ACCESS_CODE_KEYS from
// dataDir/access-code-keys, writing a fresh key there the first time: the
// access codes of the concerns in make run's database open nothing under
// another key.
func localAccessCodeKeys(dataDir string) (string, error) {
	key, err := localKey(filepath.Join(dataDir, "access-code-keys"))
	if err != nil {
		return "", fmt.Errorf("access code keys: %w", err)
	}
	return key, nil
}

// localSessionKeys reads the website's SESSION_KEYS from
// dataDir/session-keys, writing a fresh key there the first time, so that a
// client signed in stays signed in when make run restarts.
func localSessionKeys(dataDir string) (string, error) {
	key, err := localKey(filepath.Join(dataDir, "session-keys"))
	if err != nil {
		return "", fmt.Errorf("session keys: %w", err)
	}
	return key, nil
}

// localKey reads the key setting kept in path, or writes a fresh one
// there when there is none yet.
func localKey(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) != "" {
		return strings.TrimSpace(string(b)), nil
	}
	key, err := sealed.NewKeySetting("local")
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", err
	}
	return key, nil
}
