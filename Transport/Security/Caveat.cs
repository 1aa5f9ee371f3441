using System.Buffers;
using System.Buffers.Binary;

namespace FlowOrleans.Transport.Security;

/// <summary>
/// A restriction on a blessing or discharge: an id naming the kind of check and that check's
/// parameters. Validation fails closed: a caveat whose id this library does not understand is never
/// satisfied. Third-party caveats (<see cref="ThirdPartyCaveat"/>) are carried as caveats too.
/// </summary>
public sealed class Caveat : IEquatable<Caveat>
{
    internal static readonly Guid UnconstrainedId = new("f30d3d50-a180-4a57-90fa-bbeb657a1fd0");
    internal static readonly Guid ExpiryId = new("58f23a01-0001-4a86-9f08-1254aca785c2");
    internal static readonly Guid MethodId = new("46c702da-2a50-428f-9ed7-61d77ae12d93");
    internal static readonly Guid ThirdPartyId = new("6c5f371b-d492-406e-8452-c18692896f5a");

    internal const int IdSize = 16;

    /// <summary>Id (16 bytes) plus the u16 parameter length.</summary>
    internal const int MinEncodedSize = IdSize + 2;

    private readonly byte[] _parameters;

    /// <summary>Creates a caveat from raw parts. Ids other than the built-in ones never validate.</summary>
    public Caveat(Guid id, ReadOnlySpan<byte> parameters)
        : this(id, parameters.ToArray())
    {
    }

    internal Caveat(Guid id, byte[] parameters)
    {
        if (parameters.Length > SecurityLimits.MaxCaveatParameterBytes)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Caveat parameters are limited to {SecurityLimits.MaxCaveatParameterBytes} bytes.");
        }

        Id = id;
        _parameters = parameters;
    }

    /// <summary>A caveat that is always satisfied: use it to grant a blessing without restrictions.</summary>
    public static Caveat Unconstrained { get; } = new(UnconstrainedId, Array.Empty<byte>());

    public Guid Id { get; }

    public ReadOnlyMemory<byte> Parameters => _parameters;

    internal ReadOnlySpan<byte> ParameterSpan => _parameters;

    /// <summary>Satisfied while the call's time is at or before <paramref name="notAfter"/>.</summary>
    public static Caveat Expiry(DateTimeOffset notAfter)
    {
        var parameters = new byte[sizeof(long)];
        BinaryPrimitives.WriteInt64BigEndian(parameters, notAfter.UtcTicks);
        return new Caveat(ExpiryId, parameters);
    }

    /// <summary>Satisfied only for a call to one of <paramref name="methods"/> (at least one, none empty).</summary>
    public static Caveat Method(params string[] methods)
    {
        ArgumentNullException.ThrowIfNull(methods);
        if (methods.Length is 0 or > SecurityLimits.MaxMethodNames)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"A method caveat needs between 1 and {SecurityLimits.MaxMethodNames} methods.");
        }

        var writer = new ArrayBufferWriter<byte>();
        SecurityWriter.WriteByte(writer, (byte)methods.Length);
        foreach (var method in methods)
        {
            ArgumentNullException.ThrowIfNull(method, nameof(methods));
            var bytes = SecurityWriter.Utf8Bytes(method, "method name");
            if (bytes.Length is 0 or > SecurityLimits.MaxMethodNameBytes)
            {
                throw new FlowException(FlowErrorCode.BadArg, $"A method name must have between 1 and {SecurityLimits.MaxMethodNameBytes} UTF-8 bytes.");
            }

            SecurityWriter.WriteLengthPrefixed(writer, bytes);
        }

        return new Caveat(MethodId, writer.WrittenSpan.ToArray());
    }

    /// <summary>The expiry time if this is an expiry caveat with well-formed parameters.</summary>
    internal DateTimeOffset? ExpiryTime => Id == ExpiryId && TryReadExpiry(_parameters, out var time) ? time : null;

    internal static bool TryReadExpiry(ReadOnlySpan<byte> parameters, out DateTimeOffset notAfter)
    {
        notAfter = default;
        if (parameters.Length != sizeof(long))
        {
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(parameters);
        if (ticks < DateTimeOffset.MinValue.UtcTicks || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            return false;
        }

        notAfter = new DateTimeOffset(ticks, TimeSpan.Zero);
        return true;
    }

    /// <summary>Parses method-caveat parameters; malformed parameters give false so the caveat fails closed.</summary>
    internal static bool TryReadMethods(ReadOnlySpan<byte> parameters, out string[] methods)
    {
        methods = [];
        try
        {
            var reader = new SecurityReader(parameters, "method caveat");
            var count = reader.ReadCount(1, SecurityLimits.MaxMethodNames, 3, "method");
            var result = new string[count];
            for (var i = 0; i < count; i++)
            {
                result[i] = reader.ReadString(SecurityLimits.MaxMethodNameBytes, "method name");
                if (result[i].Length == 0)
                {
                    return false;
                }
            }

            reader.EnsureEnd();
            methods = result;
            return true;
        }
        catch (FlowException)
        {
            return false;
        }
    }

    internal void Write(IBufferWriter<byte> writer)
    {
        var id = writer.GetSpan(IdSize);
        Id.TryWriteBytes(id, bigEndian: true, out _);
        writer.Advance(IdSize);
        SecurityWriter.WriteLengthPrefixed(writer, _parameters);
    }

    internal static Caveat Read(ref SecurityReader reader)
    {
        var id = new Guid(reader.ReadBytes(IdSize), bigEndian: true);
        var parameters = reader.ReadLengthPrefixed(SecurityLimits.MaxCaveatParameterBytes, "caveat parameters");
        return new Caveat(id, parameters.ToArray());
    }

    internal static void WriteList(IBufferWriter<byte> writer, IReadOnlyList<Caveat> caveats)
    {
        SecurityWriter.WriteByte(writer, checked((byte)caveats.Count));
        foreach (var caveat in caveats)
        {
            caveat.Write(writer);
        }
    }

    internal static Caveat[] ReadList(ref SecurityReader reader, int min, int max)
    {
        var count = reader.ReadCount(min, max, MinEncodedSize, "caveat");
        var caveats = new Caveat[count];
        for (var i = 0; i < count; i++)
        {
            caveats[i] = Read(ref reader);
        }

        return caveats;
    }

    /// <summary>Copies and checks a caller-supplied caveat list (primary first, then the additional ones).</summary>
    internal static Caveat[] Combine(Caveat first, Caveat[]? additional, int max)
    {
        ArgumentNullException.ThrowIfNull(first);
        var result = new Caveat[1 + (additional?.Length ?? 0)];
        result[0] = first;
        for (var i = 1; i < result.Length; i++)
        {
            result[i] = additional![i - 1] ?? throw new ArgumentNullException(nameof(additional));
        }

        if (result.Length > max)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"At most {max} caveats are allowed.");
        }

        return result;
    }

    public bool Equals(Caveat? other) =>
        other is not null && Id == other.Id && _parameters.AsSpan().SequenceEqual(other._parameters);

    public override bool Equals(object? obj) => Equals(obj as Caveat);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Id);
        hash.AddBytes(_parameters);
        return hash.ToHashCode();
    }

    public override string ToString() =>
        Id == UnconstrainedId ? "Unconstrained"
        : Id == ExpiryId && ExpiryTime is { } expiry ? $"Expiry({expiry:O})"
        : Id == MethodId && TryReadMethods(_parameters, out var methods) ? $"Method({string.Join(", ", methods)})"
        : Id == ThirdPartyId ? "ThirdParty"
        : $"Caveat({Id}, {_parameters.Length} bytes)";
}
