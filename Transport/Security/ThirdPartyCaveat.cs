using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// A caveat satisfied only by a <see cref="Discharge"/> signed by the named discharger. The discharger
/// checks its own restrictions (<see cref="Caveats"/>) before minting. A random nonce makes every
/// instance distinct, so a discharge issued for one blessing cannot be replayed for another.
/// </summary>
public sealed class ThirdPartyCaveat
{
    internal const int NonceSize = 16;
    private const ThirdPartyRequirements AllRequirements =
        ThirdPartyRequirements.ReportServer | ThirdPartyRequirements.ReportMethod | ThirdPartyRequirements.ReportArguments;

    private readonly byte[] _nonce;
    private readonly Caveat[] _caveats;
    private readonly Caveat _caveat;

    private ThirdPartyCaveat(byte[] nonce, PublicKey discharger, string location, ThirdPartyRequirements requirements, Caveat[] caveats, byte[] encoded)
    {
        _nonce = nonce;
        Discharger = discharger;
        Location = location;
        Requirements = requirements;
        _caveats = caveats;
        _caveat = new Caveat(Caveat.ThirdPartyId, encoded);

        // The encoding is canonical, so its hash identifies the caveat (nonce, key, location and restrictions).
        DischargeId = Convert.ToBase64String(SHA256.HashData(encoded));
    }

    public PublicKey Discharger { get; }

    /// <summary>Where the discharger can be reached (an object name or endpoint).</summary>
    public string Location { get; }

    public ThirdPartyRequirements Requirements { get; }

    public ReadOnlyMemory<byte> Nonce => _nonce;

    /// <summary>Restrictions the discharger validates before issuing a discharge.</summary>
    public IReadOnlyList<Caveat> Caveats => Array.AsReadOnly(_caveats);

    /// <summary>The id a matching discharge carries and <see cref="Discharges"/> is keyed by.</summary>
    public string DischargeId { get; }

    public static ThirdPartyCaveat Create(
        PublicKey discharger,
        string location,
        ThirdPartyRequirements requirements,
        Caveat caveat,
        params Caveat[] additionalCaveats)
    {
        ArgumentNullException.ThrowIfNull(discharger);
        ArgumentNullException.ThrowIfNull(location);
        if ((requirements & ~AllRequirements) != 0)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Unknown third-party requirements {requirements}.");
        }

        var caveats = Caveat.Combine(caveat, additionalCaveats, SecurityLimits.MaxCaveatsPerCertificate);
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);

        var writer = new ArrayBufferWriter<byte>();
        SecurityWriter.WriteBytes(writer, nonce);
        SecurityWriter.WriteLengthPrefixed(writer, discharger.Span);
        var locationBytes = SecurityWriter.Utf8Bytes(location, "discharger location");
        if (locationBytes.Length > SecurityLimits.MaxLocationBytes)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"A discharger location is limited to {SecurityLimits.MaxLocationBytes} UTF-8 bytes.");
        }

        SecurityWriter.WriteLengthPrefixed(writer, locationBytes);
        SecurityWriter.WriteByte(writer, (byte)requirements);
        Caveat.WriteList(writer, caveats);
        if (writer.WrittenCount > SecurityLimits.MaxCaveatParameterBytes)
        {
            throw new FlowException(FlowErrorCode.BadArg, "The third-party caveat's restrictions are too large.");
        }

        return new ThirdPartyCaveat(nonce, discharger, location, requirements, caveats, writer.WrittenSpan.ToArray());
    }

    /// <summary>The caveat to put on a blessing.</summary>
    public Caveat ToCaveat() => _caveat;

    public static implicit operator Caveat(ThirdPartyCaveat caveat)
    {
        ArgumentNullException.ThrowIfNull(caveat);
        return caveat._caveat;
    }

    /// <summary>
    /// Recovers the third-party details of <paramref name="caveat"/>; false if it is not a third-party
    /// caveat or its parameters are malformed.
    /// </summary>
    public static bool TryFromCaveat(Caveat caveat, [NotNullWhen(true)] out ThirdPartyCaveat? thirdParty)
    {
        ArgumentNullException.ThrowIfNull(caveat);
        thirdParty = null;
        if (caveat.Id != Caveat.ThirdPartyId)
        {
            return false;
        }

        try
        {
            thirdParty = Decode(caveat.ParameterSpan);
            return true;
        }
        catch (FlowException)
        {
            return false;
        }
    }

    internal static ThirdPartyCaveat Decode(ReadOnlySpan<byte> parameters)
    {
        var reader = new SecurityReader(parameters, "third-party caveat");
        var nonce = reader.ReadBytes(NonceSize).ToArray();
        var discharger = PublicKey.FromBytes(reader.ReadLengthPrefixed(SecurityLimits.MaxPublicKeyBytes, "discharger key"));
        var location = reader.ReadString(SecurityLimits.MaxLocationBytes, "discharger location");
        var requirements = (ThirdPartyRequirements)reader.ReadByte();
        if ((requirements & ~AllRequirements) != 0)
        {
            throw reader.Malformed("unknown requirement bits");
        }

        var caveats = Caveat.ReadList(ref reader, 1, SecurityLimits.MaxCaveatsPerCertificate);
        reader.EnsureEnd();
        return new ThirdPartyCaveat(nonce, discharger, location, requirements, caveats, parameters.ToArray());
    }

    public override string ToString() => $"ThirdParty({DischargeId}@{Location})";
}
