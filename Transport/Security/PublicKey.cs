using System.Security.Cryptography;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// An ECDSA P-256 public key, identified by its DER SubjectPublicKeyInfo encoding. Only the canonical
/// encoding is accepted, so two keys are equal exactly when their bytes are.
/// </summary>
public sealed class PublicKey : IEquatable<PublicKey>
{
    private const int CoordinateSize = 32;
    private const byte UncompressedPoint = 0x04;
    private const int EncodedSize = 26 + 1 + (2 * CoordinateSize);

    // SEQUENCE { SEQUENCE { OID id-ecPublicKey, OID prime256v1 }, BIT STRING (66 bytes, 0 unused bits) }.
    private static ReadOnlySpan<byte> SpkiPrefix =>
    [
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01,
        0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];

    private readonly byte[] _bytes;
    private readonly int _hashCode;

    // Shared by every connection that sees this key, without a lock: verification only reads the native
    // key (on Linux an OpenSSL EVP_PKEY, with a fresh context per call). SignatureTests exercise it concurrently.
    private readonly ECDsa _key;

    private PublicKey(byte[] bytes, ECDsa key)
    {
        _bytes = bytes;
        _key = key;
        var hash = new HashCode();
        hash.AddBytes(bytes);
        _hashCode = hash.ToHashCode();
    }

    /// <summary>The DER SubjectPublicKeyInfo encoding.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    /// <summary>Parses a DER SubjectPublicKeyInfo of a P-256 key; anything else is <see cref="FlowErrorCode.BadArg"/>.</summary>
    public static PublicKey FromBytes(ReadOnlySpan<byte> bytes)
    {
        // Only one encoding of a P-256 key is accepted: the fixed SPKI header and an uncompressed point.
        // Matching it byte for byte keeps the platform's ASN.1 parser away from untrusted input and
        // means equal keys always have equal bytes.
        if (bytes.Length != EncodedSize ||
            !bytes.StartsWith(SpkiPrefix) ||
            bytes[SpkiPrefix.Length] != UncompressedPoint)
        {
            throw new FlowException(FlowErrorCode.BadArg, "The bytes are not a DER-encoded P-256 public key.");
        }

        var point = bytes[(SpkiPrefix.Length + 1)..];
        var parameters = new ECParameters
        {
            Curve = ECCurve.NamedCurves.nistP256,
            Q = new ECPoint { X = point[..CoordinateSize].ToArray(), Y = point[CoordinateSize..].ToArray() },
        };

        var key = ECDsa.Create();
        try
        {
            // Rejects points that are not on the curve.
            key.ImportParameters(parameters);
            return new PublicKey(bytes.ToArray(), key);
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new FlowException(FlowErrorCode.BadArg, "The public key is not a point on P-256.", e);
        }
    }

    internal static PublicKey FromKey(ECDsa privateOrPublicKey)
    {
        var der = privateOrPublicKey.ExportSubjectPublicKeyInfo();
        return FromBytes(der);
    }

    /// <summary>
    /// Verifies a signature made by <see cref="Principal.Sign"/> for the same purpose and message.
    /// Returns false (never throws) for a malformed signature.
    /// </summary>
    public bool Verify(string purpose, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        return SignatureScheme.Verify(_key, purpose, message, signature);
    }

    internal ReadOnlySpan<byte> Span => _bytes;

    public bool Equals(PublicKey? other) =>
        other is not null && (ReferenceEquals(this, other) || _bytes.AsSpan().SequenceEqual(other._bytes));

    public override bool Equals(object? obj) => Equals(obj as PublicKey);

    public override int GetHashCode() => _hashCode;

    /// <summary>A short fingerprint (first 16 bytes of the SHA-256 of the encoding, hex) for logs.</summary>
    public override string ToString() => Convert.ToHexStringLower(SHA256.HashData(_bytes).AsSpan(0, 16));
}
