package config

// Keys holds the settings of a service that encrypts confidential text at
// rest (see package sealed, which parses them).
type Keys struct {
	// EncryptionKeys are the configured keys, "id=base64,id=base64", each
	// 32 random bytes. Old keys stay listed until every data key they
	// wrapped has been rewrapped.
	EncryptionKeys string
	// EncryptionKeyID names the key among EncryptionKeys that wraps new data
	// keys; may be empty when there is only one key.
	EncryptionKeyID string
}

// RegisterKeys declares the encryption key settings.
func (s *Set) RegisterKeys(c *Keys) {
	s.Secret(&c.EncryptionKeys, "encryption-keys", "ENCRYPTION_KEYS", "keys that encrypt confidential text at rest, as id=base64,id=base64 (32 random bytes each; generate one with openssl rand -base64 32)")
	s.String(&c.EncryptionKeyID, "encryption-key-id", "ENCRYPTION_KEY_ID", "", "id of the key in ENCRYPTION_KEYS that encrypts new data; may be empty when only one key is given")
}
