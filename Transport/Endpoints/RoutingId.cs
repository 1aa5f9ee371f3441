using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace FlowOrleans.Transport.Endpoints;

/// <summary>
/// A 128-bit identifier of a flow manager, unique with overwhelming probability. Connections are
/// cached, shared and proxied by it, so two endpoints with the same routing ID reach the same process.
/// </summary>
/// <remarks>
/// Printed as 32 lowercase hex digits and written on the wire as 16 big-endian bytes, matching
/// Vanadium's <c>naming.RoutingID</c>.
/// </remarks>
public readonly struct RoutingId : IEquatable<RoutingId>, ISpanFormattable
{
    /// <summary>The size of a routing ID on the wire, in bytes.</summary>
    public const int Size = 16;

    private const int HexLength = Size * 2;

    // Vanadium keeps IDs below this value (with all higher bytes zero) for fixed, well-known uses.
    private const ulong FirstUnreservedLow = 1024;

    private readonly ulong _high;
    private readonly ulong _low;

    /// <summary>Creates a routing ID from its upper and lower 64 bits.</summary>
    public RoutingId(ulong high, ulong low)
    {
        _high = high;
        _low = low;
    }

    /// <summary>The null routing ID (all zeros): "no particular process".</summary>
    public static RoutingId Null => default;

    /// <summary>True for the null routing ID.</summary>
    public bool IsNull => (_high | _low) == 0;

    /// <summary>The upper 64 bits.</summary>
    public ulong High => _high;

    /// <summary>The lower 64 bits.</summary>
    public ulong Low => _low;

    /// <summary>
    /// True when the ID is in the range Vanadium reserves for fixed IDs (which includes <see cref="Null"/>);
    /// random IDs are never drawn from it.
    /// </summary>
    internal bool IsReserved => _high == 0 && _low < FirstUnreservedLow;

    /// <summary>Creates a fresh routing ID from the cryptographic random number generator.</summary>
    /// <remarks>Never returns <see cref="Null"/> or any other reserved ID.</remarks>
    public static RoutingId NewRandom()
    {
        Span<byte> bytes = stackalloc byte[Size];
        RoutingId id;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            id = Read(bytes);
        }
        while (id.IsReserved);

        return id;
    }

    /// <summary>Parses exactly 32 hex digits (either case).</summary>
    /// <exception cref="FlowException">With <see cref="FlowErrorCode.BadArg"/> when <paramref name="s"/> is not 32 hex digits.</exception>
    public static RoutingId Parse(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        if (!TryParse(s, out var id))
        {
            throw new FlowException(
                FlowErrorCode.BadArg,
                $"Bad routing id \"{EndpointText.Excerpt(s)}\": expected exactly {HexLength} hex digits.");
        }

        return id;
    }

    /// <summary>Parses exactly 32 hex digits (either case); anything else returns false.</summary>
    public static bool TryParse(ReadOnlySpan<char> s, out RoutingId result)
    {
        if (s.Length == HexLength
            && TryParseHex64(s[..16], out var high)
            && TryParseHex64(s[16..], out var low))
        {
            result = new RoutingId(high, low);
            return true;
        }

        result = default;
        return false;
    }

    /// <summary>Reads a routing ID from the first 16 bytes of <paramref name="source"/> (big-endian).</summary>
    /// <exception cref="FlowException">With <see cref="FlowErrorCode.BadArg"/> when fewer than 16 bytes are given.</exception>
    public static RoutingId Read(ReadOnlySpan<byte> source)
    {
        // Source bytes usually come off the wire, so a short buffer is bad input rather than a programming error.
        if (source.Length < Size)
        {
            throw new FlowException(
                FlowErrorCode.BadArg,
                $"Bad routing id: need {Size} bytes, got {source.Length}.");
        }

        return new RoutingId(
            BinaryPrimitives.ReadUInt64BigEndian(source),
            BinaryPrimitives.ReadUInt64BigEndian(source[8..]));
    }

    /// <summary>Writes the 16 big-endian bytes of this ID to the start of <paramref name="destination"/>.</summary>
    /// <exception cref="ArgumentException">When <paramref name="destination"/> is shorter than 16 bytes.</exception>
    public void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"The destination needs at least {Size} bytes.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
    }

    /// <summary>32 lowercase hex digits (the null ID prints as 32 zeros).</summary>
    public override string ToString() => string.Create(HexLength, this, static (chars, id) => id.FormatHex(chars));

    /// <summary>Only the default format (null or empty) is supported.</summary>
    public string ToString(string? format, IFormatProvider? formatProvider)
    {
        ThrowIfUnsupportedFormat(format);
        return ToString();
    }

    /// <summary>Writes 32 lowercase hex digits; only the default format (empty) is supported.</summary>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        ThrowIfUnsupportedFormat(format);
        if (destination.Length < HexLength)
        {
            charsWritten = 0;
            return false;
        }

        FormatHex(destination);
        charsWritten = HexLength;
        return true;
    }

    public bool Equals(RoutingId other) => _high == other._high && _low == other._low;

    public override bool Equals([NotNullWhen(true)] object? obj) => obj is RoutingId other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_high, _low);

    public static bool operator ==(RoutingId left, RoutingId right) => left.Equals(right);

    public static bool operator !=(RoutingId left, RoutingId right) => !left.Equals(right);

    private void FormatHex(Span<char> destination)
    {
        WriteHex64(_high, destination);
        WriteHex64(_low, destination[16..]);
    }

    private static void WriteHex64(ulong value, Span<char> destination)
    {
        for (var i = 15; i >= 0; i--)
        {
            destination[i] = "0123456789abcdef"[(int)(value & 0xF)];
            value >>= 4;
        }
    }

    // Written out rather than via ulong.TryParse: number parsing tolerates signs, prefixes and
    // whitespace depending on styles, and the format here is strictly 16 hex digits.
    private static bool TryParseHex64(ReadOnlySpan<char> digits, out ulong value)
    {
        value = 0;
        foreach (var c in digits)
        {
            var nibble = EndpointText.HexValue(c);
            if (nibble < 0)
            {
                return false;
            }

            value = (value << 4) | (uint)nibble;
        }

        return true;
    }

    private static void ThrowIfUnsupportedFormat(ReadOnlySpan<char> format)
    {
        if (!format.IsEmpty)
        {
            throw new FormatException($"RoutingId supports only the default format, not \"{format}\".");
        }
    }
}
