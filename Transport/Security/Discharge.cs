using System.Buffers;
using System.Security.Cryptography;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// Proof from a third party that a <see cref="ThirdPartyCaveat"/> is satisfied: the caveat's
/// <see cref="ThirdPartyCaveat.DischargeId"/>, caveats restricting the discharge itself (typically an
/// expiry), and the discharger's signature over both.
/// </summary>
/// <remarks>Encoding (v1): <c>u8 version, u16+utf8 id, u8 count, caveats, 64-byte signature</c>.</remarks>
public sealed class Discharge : IEquatable<Discharge>
{
    private const byte Version = 1;

    private readonly Caveat[] _caveats;
    private readonly byte[] _signature;

    // The body (id and caveats) is both the signed message and, followed by the signature, the encoding.
    private readonly byte[] _body;

    private Discharge(string thirdPartyCaveatId, Caveat[] caveats, byte[] body, byte[] signature)
    {
        ThirdPartyCaveatId = thirdPartyCaveatId;
        _caveats = caveats;
        _body = body;
        _signature = signature;
    }

    public string ThirdPartyCaveatId { get; }

    public IReadOnlyList<Caveat> Caveats => Array.AsReadOnly(_caveats);

    public ReadOnlyMemory<byte> Signature => _signature;

    /// <summary>The earliest expiry among the discharge's caveats, or null if none expires it.</summary>
    public DateTimeOffset? Expiry
    {
        get
        {
            DateTimeOffset? earliest = null;
            foreach (var caveat in _caveats)
            {
                if (caveat.ExpiryTime is { } time && (earliest is null || time < earliest))
                {
                    earliest = time;
                }
            }

            return earliest;
        }
    }

    internal static Discharge Mint(ECDsa signer, string thirdPartyCaveatId, Caveat[] caveats)
    {
        var writer = new ArrayBufferWriter<byte>();
        SecurityWriter.WriteString(writer, thirdPartyCaveatId);
        Caveat.WriteList(writer, caveats);
        var body = writer.WrittenSpan.ToArray();
        var signature = SignatureScheme.Sign(signer, SignatureScheme.DischargePurpose, body);
        return new Discharge(thirdPartyCaveatId, caveats, body, signature);
    }

    internal bool IsSignedBy(PublicKey discharger) =>
        discharger.Verify(SignatureScheme.DischargePurpose, _body, _signature);

    public void Encode(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        SecurityWriter.WriteByte(writer, Version);
        WriteBody(writer);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[1 + _body.Length + _signature.Length];
        bytes[0] = Version;
        _body.CopyTo(bytes, 1);
        _signature.CopyTo(bytes, 1 + _body.Length);
        return bytes;
    }

    /// <summary>Decodes <see cref="ToBytes"/> output; malformed input is <see cref="FlowErrorCode.BadArg"/>.</summary>
    /// <remarks>The signature is not checked here: only the caveat naming the discharger can say whose key it needs.</remarks>
    public static Discharge Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > SecurityLimits.MaxEncodedBytes)
        {
            throw new FlowException(FlowErrorCode.BadArg, "Malformed discharge: too large.");
        }

        var reader = new SecurityReader(bytes, "discharge");
        if (reader.ReadByte() != Version)
        {
            throw reader.Malformed("unsupported version");
        }

        var discharge = ReadBody(ref reader);
        reader.EnsureEnd();
        return discharge;
    }

    internal void WriteBody(IBufferWriter<byte> writer)
    {
        SecurityWriter.WriteBytes(writer, _body);
        SecurityWriter.WriteBytes(writer, _signature);
    }

    internal static Discharge ReadBody(ref SecurityReader reader)
    {
        var start = reader.Position;
        var id = reader.ReadString(SecurityLimits.MaxDischargeIdBytes, "third-party caveat id");
        if (id.Length == 0)
        {
            throw reader.Malformed("empty third-party caveat id");
        }

        var caveats = Caveat.ReadList(ref reader, 0, SecurityLimits.MaxCaveatsPerCertificate);
        var body = reader.ConsumedSince(start).ToArray();
        var signature = reader.ReadBytes(SignatureScheme.SignatureSize).ToArray();
        return new Discharge(id, caveats, body, signature);
    }

    public bool Equals(Discharge? other) =>
        other is not null &&
        _body.AsSpan().SequenceEqual(other._body) &&
        _signature.AsSpan().SequenceEqual(other._signature);

    public override bool Equals(object? obj) => Equals(obj as Discharge);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_signature);
        return hash.ToHashCode();
    }

    public override string ToString() => $"Discharge({ThirdPartyCaveatId})";
}
