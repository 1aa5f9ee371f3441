using System.Buffers;
using System.Security.Cryptography;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// One link of a blessing chain: an extension of the name, the public key it is granted to, the
/// caveats that restrict it, and a signature by the previous link's key (the first link signs itself).
/// </summary>
/// <remarks>
/// The signed message is <c>0x00</c> (first link) or <c>0x01 || digest of the chain so far</c>, followed
/// by the link's encoded fields. Binding each link to the digest of its whole prefix, not just the
/// signer's key, means a link cannot be spliced onto another chain held by the same key. The chain
/// digest after a link is <c>SHA-256(signed message || signature)</c>.
/// Encoding: <c>u16+utf8 extension, u16+DER public key, u8 count + caveats, 64-byte signature</c>.
/// </remarks>
public sealed class Certificate
{
    // Extension (u16 + 1 byte), key (u16 + 1 byte), caveat count, signature.
    internal const int MinEncodedSize = 3 + 3 + 1 + SignatureScheme.SignatureSize;

    private const byte RootMarker = 0;
    private const byte ChildMarker = 1;

    private readonly Caveat[] _caveats;
    private readonly byte[] _signature;
    private readonly byte[] _signedMessage;
    private readonly byte[] _chainDigest;

    private Certificate(string extension, PublicKey publicKey, Caveat[] caveats, byte[] signedMessage, byte[] signature)
    {
        Extension = extension;
        PublicKey = publicKey;
        _caveats = caveats;
        Caveats = Array.AsReadOnly(caveats);
        _signedMessage = signedMessage;
        _signature = signature;

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(signedMessage);
        hash.AppendData(signature);
        _chainDigest = hash.GetHashAndReset();
    }

    public string Extension { get; }

    /// <summary>The key this link blesses (for the last link: the key the whole blessing is bound to).</summary>
    public PublicKey PublicKey { get; }

    public IReadOnlyList<Caveat> Caveats { get; }

    public ReadOnlyMemory<byte> Signature => _signature;

    internal ReadOnlySpan<Caveat> CaveatSpan => _caveats;

    internal ReadOnlySpan<byte> SignatureSpan => _signature;

    internal ReadOnlySpan<byte> SignedMessage => _signedMessage;

    /// <summary>Digest of the chain up to and including this link.</summary>
    internal ReadOnlySpan<byte> ChainDigest => _chainDigest;

    /// <summary>Creates and signs a link; <paramref name="parentDigest"/> is empty for a self-signed first link.</summary>
    internal static Certificate Create(ECDsa signer, ReadOnlySpan<byte> parentDigest, string extension, PublicKey publicKey, Caveat[] caveats)
    {
        BlessingNames.ValidateExtension(extension);
        var writer = new ArrayBufferWriter<byte>();
        WritePrefix(writer, parentDigest);
        SecurityWriter.WriteString(writer, extension);
        SecurityWriter.WriteLengthPrefixed(writer, publicKey.Span);
        Caveat.WriteList(writer, caveats);
        var signedMessage = writer.WrittenSpan.ToArray();
        var signature = SignatureScheme.Sign(signer, SignatureScheme.BlessPurpose, signedMessage);
        return new Certificate(extension, publicKey, caveats, signedMessage, signature);
    }

    internal static Certificate Read(ref SecurityReader reader, ReadOnlySpan<byte> parentDigest)
    {
        var start = reader.Position;
        var extension = reader.ReadString(SecurityLimits.MaxExtensionBytes, "blessing extension");
        if (BlessingNames.ExtensionError(extension) is { } error)
        {
            throw reader.Malformed(error);
        }

        var publicKey = PublicKey.FromBytes(reader.ReadLengthPrefixed(SecurityLimits.MaxPublicKeyBytes, "public key"));
        var caveats = Caveat.ReadList(ref reader, 0, SecurityLimits.MaxCaveatsPerCertificate);
        var fields = reader.ConsumedSince(start);

        var writer = new ArrayBufferWriter<byte>(1 + parentDigest.Length + fields.Length);
        WritePrefix(writer, parentDigest);
        SecurityWriter.WriteBytes(writer, fields);
        var signature = reader.ReadBytes(SignatureScheme.SignatureSize).ToArray();
        return new Certificate(extension, publicKey, caveats, writer.WrittenSpan.ToArray(), signature);
    }

    internal void Write(IBufferWriter<byte> writer)
    {
        // The signed message minus its chaining prefix is exactly the encoded fields.
        var prefixLength = _signedMessage[0] == RootMarker ? 1 : 1 + SignatureScheme.DigestSize;
        SecurityWriter.WriteBytes(writer, _signedMessage.AsSpan(prefixLength));
        SecurityWriter.WriteBytes(writer, _signature);
    }

    private static void WritePrefix(IBufferWriter<byte> writer, ReadOnlySpan<byte> parentDigest)
    {
        if (parentDigest.IsEmpty)
        {
            SecurityWriter.WriteByte(writer, RootMarker);
        }
        else
        {
            SecurityWriter.WriteByte(writer, ChildMarker);
            SecurityWriter.WriteBytes(writer, parentDigest);
        }
    }

    public override string ToString() => Extension;
}
