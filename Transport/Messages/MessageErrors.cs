using System.Diagnostics.CodeAnalysis;

namespace FlowOrleans.Transport.Messages;

/// <summary>
/// Throw helpers of the codec. Kept out of line so the hot encode/decode methods stay small enough to inline.
/// Every failure is <see cref="FlowErrorCode.BadArg"/>: malformed bytes from a peer, or a message that cannot be encoded.
/// </summary>
internal static class MessageErrors
{
    [DoesNotReturn]
    public static void ThrowMalformed(string detail) => throw Malformed(detail);

    public static FlowException Malformed(string detail, Exception? inner = null)
        => new(FlowErrorCode.BadArg, "Malformed message: " + detail, inner);

    [DoesNotReturn]
    public static void ThrowMalformedVarInt(VarIntStatus status, string field)
        => ThrowMalformed(status == VarIntStatus.Incomplete
            ? field + " is truncated."
            : field + " is not a minimal 64-bit varint.");

    [DoesNotReturn]
    public static void ThrowInvalid(string detail) => throw Invalid(detail);

    public static FlowException Invalid(string detail, Exception? inner = null)
        => new(FlowErrorCode.BadArg, "Cannot encode message: " + detail, inner);
}
