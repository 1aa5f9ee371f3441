namespace FlowOrleans.Transport.Connections;

/// <summary>AEAD ciphers a connection can seal its records with; the byte value is the wire identifier.</summary>
public enum CipherSuite : byte
{
    Aes256Gcm = 1,
    ChaCha20Poly1305 = 2,
}
