using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using FlowOrleans.Transport;

namespace FlowOrleans.GrainInterfaces.Security;

/// <summary>
/// 128 random bits that prove the right to use something the cluster holds for a caller: a flow it dialed or claimed,
/// a pin or a listening name it created. Whoever presents the bits is the owner, so they are kept like a password:
/// <see cref="ToString"/> never prints them (use <see cref="ToHex"/> to store them on purpose), grains compare them in
/// constant time, and storage keeps only their <see cref="Digest"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.Capability")]
public readonly record struct Capability([property: Id(0)] ulong High, [property: Id(1)] ulong Low)
{
    private const int Size = 16;

    /// <summary>True for <c>default</c>, which no caller is ever given.</summary>
    public bool IsEmpty => High == 0 && Low == 0;

    /// <summary>A fresh capability from the operating system's cryptographic random number generator.</summary>
    public static Capability NewRandom()
    {
        Span<byte> bytes = stackalloc byte[Size];
        do
        {
            RandomNumberGenerator.Fill(bytes);
        }
        while (bytes.IndexOfAnyExcept((byte)0) < 0);

        return new Capability(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    /// <summary>Parses the 32 hex digits <see cref="ToHex"/> writes; anything else is <see cref="FlowErrorCode.BadArg"/>.</summary>
    public static Capability Parse(string hex) => TryParse(hex, out var capability)
        ? capability
        : throw new FlowException(FlowErrorCode.BadArg, "A capability is 32 hex digits.");

    public static bool TryParse(string? hex, out Capability capability)
    {
        capability = default;
        if (hex is not { Length: Size * 2 }
            || !ulong.TryParse(hex.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var high)
            || !ulong.TryParse(hex.AsSpan(16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var low))
        {
            return false;
        }

        capability = new Capability(high, low);
        return !capability.IsEmpty;
    }

    /// <summary>The secret itself, as 32 lowercase hex digits, for a caller that must keep it across restarts.</summary>
    public string ToHex() => string.Create(CultureInfo.InvariantCulture, $"{High:x16}{Low:x16}");

    /// <summary>
    /// A one-way digest of the capability (hex SHA-256 under a label of its own), which is what grain storage keeps: a
    /// reader of the database learns nothing it could present.
    /// </summary>
    public string Digest()
    {
        Span<byte> input = stackalloc byte[Label.Length + Size];
        Label.CopyTo(input);
        BinaryPrimitives.WriteUInt64BigEndian(input[Label.Length..], High);
        BinaryPrimitives.WriteUInt64BigEndian(input[(Label.Length + 8)..], Low);
        return Convert.ToHexStringLower(SHA256.HashData(input));
    }

    /// <summary>True if <paramref name="other"/> holds the same bits; the comparison takes the same time either way.</summary>
    public bool Matches(Capability other) => !IsEmpty && ((High ^ other.High) | (Low ^ other.Low)) == 0;

    /// <summary>True if <paramref name="digest"/> is this capability's <see cref="Digest"/>, compared in constant time.</summary>
    public bool MatchesDigest(string? digest) =>
        !IsEmpty && digest is { Length: 64 } && CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(Digest()), System.Text.Encoding.ASCII.GetBytes(digest));

    /// <summary>Never the secret: logs and exception messages that print a capability reveal nothing.</summary>
    public override string ToString() => IsEmpty ? "Capability(none)" : "Capability(redacted)";

    private static ReadOnlySpan<byte> Label => "flow-orleans capability v1\n"u8;
}
