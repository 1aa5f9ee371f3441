using System.Diagnostics.CodeAnalysis;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// A <c>protocol/address</c> pair a flow manager listens on, as settings and command lines write it
/// (<c>tcp/127.0.0.1:8100</c>, <c>unix//run/flow.sock</c>). The address is everything after the first <c>/</c>.
/// </summary>
public readonly record struct ListenAddress(string Protocol, string Address)
{
    /// <summary>Parses <c>protocol/address</c>; false when either part is missing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, out ListenAddress result)
    {
        result = default;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (text is null || slash <= 0 || slash == text.Length - 1)
        {
            return false;
        }

        result = new ListenAddress(text[..slash], text[(slash + 1)..]);
        return true;
    }

    /// <summary>Parses <c>protocol/address</c>; a malformed text is <see cref="FlowErrorCode.BadArg"/>.</summary>
    public static ListenAddress Parse(string text) => TryParse(text, out var result)
        ? result
        : throw new FlowException(FlowErrorCode.BadArg, $"Listen address '{text}' is not of the form protocol/address.");

    public override string ToString() => Protocol + "/" + Address;
}
