using System.Buffers.Binary;
using System.Security.Cryptography;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// The one signature scheme of the Transport: ECDSA P-256 over a domain-separated SHA-256 digest,
/// <c>SHA-256(u32be(len(purpose)) || purpose || message)</c>, in IEEE P1363 form (r || s, 64 bytes)
/// with s normalised to the low half of the group order. The length prefix means a signature made
/// for one purpose never verifies for another; low-s means nobody but the signer can produce a second
/// valid encoding of a signature, so encodings that embed signatures stay canonical.
/// </summary>
internal static class SignatureScheme
{
    public const int SignatureSize = 64;
    public const int DigestSize = 32;
    private const int ScalarSize = 32;

    /// <summary>Purpose of certificate signatures (a blessing link).</summary>
    public const string BlessPurpose = "flow.bless.v1";

    /// <summary>Purpose of discharge signatures.</summary>
    public const string DischargePurpose = "flow.discharge.v1";

    /// <summary>Purpose of the signature that protects a saved principal's roots and blessings.</summary>
    public const string StatePurpose = "flow.principal-state.v1";

    // P-256 group order n and floor(n / 2), big-endian.
    private static ReadOnlySpan<byte> Order =>
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xBC, 0xE6, 0xFA, 0xAD, 0xA7, 0x17, 0x9E, 0x84, 0xF3, 0xB9, 0xCA, 0xC2, 0xFC, 0x63, 0x25, 0x51,
    ];

    private static ReadOnlySpan<byte> HalfOrder =>
    [
        0x7F, 0xFF, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xDE, 0x73, 0x7D, 0x56, 0xD3, 0x8B, 0xCF, 0x42, 0x79, 0xDC, 0xE5, 0x61, 0x7E, 0x31, 0x92, 0xA8,
    ];

    public static void ComputeDigest(string purpose, ReadOnlySpan<byte> message, Span<byte> digest)
    {
        var purposeBytes = SecurityWriter.Utf8Bytes(purpose, "signature purpose");
        Span<byte> prefix = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)purposeBytes.Length);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(prefix);
        hash.AppendData(purposeBytes);
        hash.AppendData(message);
        hash.GetHashAndReset(digest);
    }

    public static byte[] Sign(ECDsa key, string purpose, ReadOnlySpan<byte> message)
    {
        Span<byte> digest = stackalloc byte[DigestSize];
        ComputeDigest(purpose, message, digest);
        var signature = new byte[SignatureSize];
        if (!key.TrySignHash(digest, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation, out var written) ||
            written != SignatureSize)
        {
            throw new FlowException(FlowErrorCode.BadState, "ECDSA signing produced an unexpected signature size.");
        }

        NormalizeLowS(signature.AsSpan(ScalarSize));
        return signature;
    }

    public static bool Verify(ECDsa key, string purpose, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != SignatureSize || !IsLowS(signature[ScalarSize..]))
        {
            return false;
        }

        Span<byte> digest = stackalloc byte[DigestSize];
        ComputeDigest(purpose, message, digest);
        return key.VerifyHash(digest, signature, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    internal static bool IsLowS(ReadOnlySpan<byte> s) => s.SequenceCompareTo(HalfOrder) <= 0;

    /// <summary>Replaces s by n - s when s is in the upper half; (r, n - s) is the same signature's twin.</summary>
    internal static void NormalizeLowS(Span<byte> s)
    {
        if (IsLowS(s))
        {
            return;
        }

        var order = Order;
        var borrow = 0;
        for (var i = ScalarSize - 1; i >= 0; i--)
        {
            var difference = order[i] - s[i] - borrow;
            borrow = difference < 0 ? 1 : 0;
            s[i] = (byte)(difference + (borrow << 8));
        }
    }
}
