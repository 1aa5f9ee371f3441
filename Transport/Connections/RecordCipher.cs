using System.Buffers.Binary;
using System.Security.Cryptography;
using FlowOrleans.Transport.Records;

namespace FlowOrleans.Transport.Connections;

/// <summary>
/// The AEAD of one direction of a connection. Nonces are the direction's IV XOR a record counter, as in TLS 1.3,
/// so they never repeat; the counter refuses to wrap, which closes the connection rather than reuse a nonce.
/// Sealing writes straight into the outgoing frame, so encryption is the only pass over the bytes.
/// </summary>
internal sealed class RecordCipher : IDisposable
{
    private const int NonceSize = 12;

    private readonly AesGcm? _aes;
    private readonly ChaCha20Poly1305? _chacha;
    private readonly byte[] _iv;
    private readonly ulong _maxRecords;
    private ulong _sequence;

    public RecordCipher(CipherSuite suite, ReadOnlySpan<byte> key, ReadOnlySpan<byte> iv, ulong maxRecords = ulong.MaxValue)
    {
        if (iv.Length != NonceSize)
        {
            throw new ArgumentException("The IV must be 12 bytes.", nameof(iv));
        }

        switch (suite)
        {
            case CipherSuite.Aes256Gcm:
                _aes = new AesGcm(key, RecordLayout.TagSize);
                break;
            case CipherSuite.ChaCha20Poly1305:
                _chacha = new ChaCha20Poly1305(key);
                break;
            default:
                throw new FlowException(FlowErrorCode.BadArg, $"Unknown cipher suite {suite}.");
        }

        Suite = suite;
        _iv = iv.ToArray();
        _maxRecords = maxRecords;
    }

    public CipherSuite Suite { get; }

    /// <summary>Records processed so far in this direction.</summary>
    public ulong Sequence => _sequence;

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> into <paramref name="record"/> (ciphertext, then the tag), which must be
    /// exactly <c>plaintext.Length + TagSize</c> bytes and may start at the same memory as the plaintext.
    /// </summary>
    public void Seal(ReadOnlySpan<byte> plaintext, Span<byte> record)
    {
        Span<byte> nonce = stackalloc byte[NonceSize];
        NextNonce(nonce);
        var text = record[..plaintext.Length];
        var tag = record.Slice(plaintext.Length, RecordLayout.TagSize);
        if (_aes is not null)
        {
            _aes.Encrypt(nonce, plaintext, text, tag);
        }
        else
        {
            _chacha!.Encrypt(nonce, plaintext, text, tag);
        }
    }

    /// <summary>
    /// Decrypts <paramref name="record"/> (ciphertext then tag) into <paramref name="plaintext"/>, which may be the same memory.
    /// A record that fails authentication (tampered, replayed, reordered, truncated) throws <see cref="FlowErrorCode.Network"/>.
    /// </summary>
    public int Open(ReadOnlySpan<byte> record, Span<byte> plaintext)
    {
        if (record.Length < RecordLayout.TagSize)
        {
            throw new FlowException(FlowErrorCode.Network, "Record shorter than its authentication tag.");
        }

        var length = record.Length - RecordLayout.TagSize;
        Span<byte> nonce = stackalloc byte[NonceSize];
        NextNonce(nonce);
        try
        {
            if (_aes is not null)
            {
                _aes.Decrypt(nonce, record[..length], record[length..], plaintext[..length]);
            }
            else
            {
                _chacha!.Decrypt(nonce, record[..length], record[length..], plaintext[..length]);
            }
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new FlowException(FlowErrorCode.Network, "Record failed authentication: tampered, replayed or reordered bytes.", e);
        }

        return length;
    }

    private void NextNonce(Span<byte> nonce)
    {
        if (_sequence >= _maxRecords)
        {
            throw new FlowException(FlowErrorCode.Network, "Record counter exhausted; the connection must be re-established.");
        }

        _iv.CopyTo(nonce);
        var counter = BinaryPrimitives.ReadUInt64BigEndian(nonce[4..]) ^ _sequence;
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], counter);
        _sequence++;
    }

    public void Dispose()
    {
        _aes?.Dispose();
        _chacha?.Dispose();
    }
}
