using System.Buffers;
using System.Collections.ObjectModel;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// Human-readable names bound to one public key by certificate chains. A Blessings may be the union
/// of several chains for the same key, or carry the key alone (<see cref="Nameless"/>). Immutable; equal exactly
/// when the canonical encodings are equal.
/// </summary>
/// <remarks>
/// <para>
/// Decoding checks structure only; chain signatures are checked (once per instance) by
/// <see cref="BlessingValidator"/>, which also decides which <see cref="Names"/> a peer may use. Blessings whose
/// signatures verified are remembered by their exact encoding (<see cref="VerifiedBlessingsCache"/>), so decoding
/// the same bytes again returns that instance without importing keys or checking signatures again.
/// </para>
/// <para>
/// Encoding (v1): <c>u8 version, u8 chain count, per chain: u8 certificate count, certificates</c>.
/// Chains are in a canonical order (length, then extensions, then chain digest) with no duplicates,
/// and decoding rejects any other order, so every Blessings has exactly one encoding. A chain count of zero is
/// <see cref="Empty"/> when nothing follows, and nameless blessings when a u16-length-prefixed public key follows.
/// </para>
/// </remarks>
public sealed class Blessings : IEquatable<Blessings>
{
    private const byte Version = 1;

    private static readonly object s_signaturesValid = new();

    private readonly Certificate[][] _chains;
    private readonly byte[] _encoded;
    private readonly int _hashCode;

    // Null until checked, then s_signaturesValid or the reason (string) a signature failed.
    private object? _signatureCheck;

    private Blessings(Certificate[][] chains, byte[] encoded, PublicKey? namelessKey = null)
    {
        _chains = chains;
        _encoded = encoded;
        PublicKey = chains.Length == 0 ? namelessKey : chains[0][^1].PublicKey;

        var names = new string[chains.Length];
        var readOnlyChains = new IReadOnlyList<Certificate>[chains.Length];
        for (var i = 0; i < chains.Length; i++)
        {
            names[i] = string.Join(BlessingNames.ChainSeparator, chains[i].Select(c => c.Extension));
            readOnlyChains[i] = Array.AsReadOnly(chains[i]);
        }

        Names = Array.AsReadOnly(names);
        Chains = Array.AsReadOnly(readOnlyChains);

        var hash = new HashCode();
        hash.AddBytes(encoded);
        _hashCode = hash.ToHashCode();
    }

    /// <summary>No key and no names: what a principal nobody blessed presents until the handshake shows its key instead.</summary>
    public static Blessings Empty { get; } = new([], [Version, 0]);

    /// <summary>True for <see cref="Empty"/> only: no key. <see cref="Nameless"/> blessings carry a key, so they are not empty.</summary>
    public bool IsEmpty => _chains.Length == 0 && PublicKey is null;

    /// <summary>True for blessings that carry a public key and no names (<see cref="Nameless"/>).</summary>
    public bool IsNameless => _chains.Length == 0 && PublicKey is not null;

    /// <summary>The key every chain is bound to (or the nameless blessings' key); null for <see cref="Empty"/>.</summary>
    public PublicKey? PublicKey { get; }

    /// <summary>The certificate chains, in canonical order.</summary>
    public IReadOnlyList<IReadOnlyList<Certificate>> Chains { get; }

    /// <summary>
    /// The names the chains claim, one per chain. Unverified: use <see cref="BlessingValidator"/> to
    /// learn which a peer may actually use.
    /// </summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The third-party caveats on any chain, for which the holder must present discharges.</summary>
    public IReadOnlyList<ThirdPartyCaveat> ThirdPartyCaveats
    {
        get
        {
            var result = new List<ThirdPartyCaveat>();
            foreach (var chain in _chains)
            {
                foreach (var certificate in chain)
                {
                    foreach (var caveat in certificate.CaveatSpan)
                    {
                        if (ThirdPartyCaveat.TryFromCaveat(caveat, out var thirdParty))
                        {
                            result.Add(thirdParty);
                        }
                    }
                }
            }

            return result.AsReadOnly();
        }
    }

    internal ReadOnlySpan<Certificate[]> ChainSpan => _chains;

    /// <summary>
    /// Blessings that carry <paramref name="publicKey"/> and no names (Vanadium's <c>NamelessBlessing</c>): they let a
    /// peer prove which key it holds, by signing the handshake, without telling who it is. A dial-only manager presents
    /// them, so servers learn no names from a client nobody can dial back; authorizers that accept any key accept them,
    /// and no blessing pattern matches them.
    /// </summary>
    public static Blessings Nameless(PublicKey publicKey)
    {
        ArgumentNullException.ThrowIfNull(publicKey);
        var writer = new ArrayBufferWriter<byte>();
        SecurityWriter.WriteByte(writer, Version);
        SecurityWriter.WriteByte(writer, 0);
        SecurityWriter.WriteLengthPrefixed(writer, publicKey.Span);
        return new Blessings([], writer.WrittenSpan.ToArray(), publicKey);
    }

    /// <summary>
    /// The union of the chains of <paramref name="blessings"/>, which must all be bound to the same key
    /// (<see cref="FlowErrorCode.BadArg"/> otherwise). Empty blessings are ignored, and so are nameless ones unless
    /// nothing else carries a name (then the result is the nameless blessings), as in Vanadium's union.
    /// </summary>
    public static Blessings Union(params Blessings[] blessings)
    {
        ArgumentNullException.ThrowIfNull(blessings);
        var chains = new List<Certificate[]>();
        Blessings? nameless = null;
        foreach (var b in blessings)
        {
            ArgumentNullException.ThrowIfNull(b, nameof(blessings));
            if (b.IsNameless)
            {
                nameless ??= b;
                if (!nameless.PublicKey!.Equals(b.PublicKey))
                {
                    throw new FlowException(FlowErrorCode.BadArg, "Cannot combine blessings bound to different public keys.");
                }
            }

            chains.AddRange(b._chains);
        }

        var union = FromChains(chains);
        if (nameless is null)
        {
            return union;
        }

        if (union.IsEmpty)
        {
            return nameless;
        }

        return nameless.PublicKey!.Equals(union.PublicKey)
            ? union
            : throw new FlowException(FlowErrorCode.BadArg, "Cannot combine blessings bound to different public keys.");
    }

    public void Encode(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(_encoded);
    }

    public byte[] ToBytes() => (byte[])_encoded.Clone();

    /// <summary>
    /// Decodes <see cref="ToBytes"/> output. Truncated, oversized, non-canonical or otherwise malformed
    /// input is <see cref="FlowErrorCode.BadArg"/>; signatures are not checked here.
    /// </summary>
    public static Blessings Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > SecurityLimits.MaxEncodedBytes)
        {
            throw new FlowException(FlowErrorCode.BadArg, "Malformed blessings: too large.");
        }

        if (VerifiedBlessingsCache.Shared.TryGet(bytes, out var verified))
        {
            return verified;
        }

        var reader = new SecurityReader(bytes, "blessings");
        if (reader.ReadByte() != Version)
        {
            throw reader.Malformed("unsupported version");
        }

        var chainCount = reader.ReadCount(0, SecurityLimits.MaxChains, 1 + Certificate.MinEncodedSize, "chain");
        if (chainCount == 0)
        {
            if (reader.Remaining == 0)
            {
                return Empty;
            }

            var key = PublicKey.FromBytes(reader.ReadLengthPrefixed(SecurityLimits.MaxPublicKeyBytes, "public key"));
            reader.EnsureEnd();
            return new Blessings([], bytes.ToArray(), key);
        }

        var chains = new Certificate[chainCount][];
        for (var i = 0; i < chainCount; i++)
        {
            var certificateCount = reader.ReadCount(1, SecurityLimits.MaxCertificatesPerChain, Certificate.MinEncodedSize, "certificate");
            var chain = new Certificate[certificateCount];
            for (var j = 0; j < certificateCount; j++)
            {
                chain[j] = Certificate.Read(ref reader, j == 0 ? default : chain[j - 1].ChainDigest);
            }

            if (i > 0)
            {
                if (!chain[^1].PublicKey.Equals(chains[0][^1].PublicKey))
                {
                    throw reader.Malformed("chains are bound to different public keys");
                }

                if (CompareChains(chains[i - 1], chain) >= 0)
                {
                    throw reader.Malformed("chains are not in canonical order");
                }
            }

            chains[i] = chain;
        }

        reader.EnsureEnd();
        return new Blessings(chains, bytes.ToArray());
    }

    /// <summary>Builds blessings from chains: checks they share a key, removes duplicates, orders and encodes them.</summary>
    internal static Blessings FromChains(IEnumerable<Certificate[]> chains)
    {
        var ordered = new List<Certificate[]>();
        foreach (var chain in chains)
        {
            if (ordered.Count > 0 && !chain[^1].PublicKey.Equals(ordered[0][^1].PublicKey))
            {
                throw new FlowException(FlowErrorCode.BadArg, "Cannot combine blessings bound to different public keys.");
            }

            ordered.Add(chain);
        }

        ordered.Sort(CompareChains);
        for (var i = ordered.Count - 1; i > 0; i--)
        {
            if (CompareChains(ordered[i - 1], ordered[i]) == 0)
            {
                ordered.RemoveAt(i);
            }
        }

        if (ordered.Count == 0)
        {
            return Empty;
        }

        if (ordered.Count > SecurityLimits.MaxChains)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Blessings are limited to {SecurityLimits.MaxChains} chains.");
        }

        var writer = new ArrayBufferWriter<byte>();
        SecurityWriter.WriteByte(writer, Version);
        SecurityWriter.WriteByte(writer, (byte)ordered.Count);
        foreach (var chain in ordered)
        {
            if (chain.Length > SecurityLimits.MaxCertificatesPerChain)
            {
                throw new FlowException(FlowErrorCode.BadArg, $"A blessing chain is limited to {SecurityLimits.MaxCertificatesPerChain} certificates.");
            }

            SecurityWriter.WriteByte(writer, (byte)chain.Length);
            foreach (var certificate in chain)
            {
                certificate.Write(writer);
            }
        }

        if (writer.WrittenCount > SecurityLimits.MaxEncodedBytes)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Blessings are limited to {SecurityLimits.MaxEncodedBytes} encoded bytes.");
        }

        return new Blessings([.. ordered], writer.WrittenSpan.ToArray());
    }

    /// <summary>
    /// Null if every link of every chain is correctly signed by the previous link's key (the first by
    /// its own), else why not. Computed once per instance: instances are immutable.
    /// </summary>
    internal string? SignatureError
    {
        get
        {
            var check = Volatile.Read(ref _signatureCheck);
            if (check is null)
            {
                check = (object?)CheckSignatures() ?? s_signaturesValid;
                Volatile.Write(ref _signatureCheck, check);
                if (ReferenceEquals(check, s_signaturesValid) && !IsEmpty)
                {
                    VerifiedBlessingsCache.Shared.AddVerified(this, _encoded);
                }
            }

            return check as string;
        }
    }

    private string? CheckSignatures()
    {
        foreach (var chain in _chains)
        {
            for (var i = 0; i < chain.Length; i++)
            {
                var signer = chain[i == 0 ? 0 : i - 1].PublicKey;
                if (!signer.Verify(SignatureScheme.BlessPurpose, chain[i].SignedMessage, chain[i].SignatureSpan))
                {
                    var name = string.Join(BlessingNames.ChainSeparator, chain.Take(i + 1).Select(c => c.Extension));
                    return $"the certificate for \"{name}\" is not signed by the key it extends";
                }
            }
        }

        return null;
    }

    private static int CompareChains(Certificate[] x, Certificate[] y)
    {
        var result = x.Length.CompareTo(y.Length);
        for (var i = 0; result == 0 && i < x.Length; i++)
        {
            result = string.CompareOrdinal(x[i].Extension, y[i].Extension);
        }

        return result != 0 ? result : x[^1].ChainDigest.SequenceCompareTo(y[^1].ChainDigest);
    }

    public bool Equals(Blessings? other) =>
        other is not null && (ReferenceEquals(this, other) || _encoded.AsSpan().SequenceEqual(other._encoded));

    public override bool Equals(object? obj) => Equals(obj as Blessings);

    public override int GetHashCode() => _hashCode;

    public override string ToString() => string.Join(',', Names);
}
