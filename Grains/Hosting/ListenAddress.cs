using System.Diagnostics.CodeAnalysis;
using FlowOrleans.Transport;

namespace FlowOrleans.Grains.Hosting;

/// <summary>A <c>protocol/address</c> pair a flow manager listens on.</summary>
internal readonly record struct ListenAddress(string Protocol, string Address)
{
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

    public static ListenAddress Parse(string text) => TryParse(text, out var result)
        ? result
        : throw new FlowException(FlowErrorCode.BadArg, $"Listen address '{text}' is not of the form protocol/address.");

    public override string ToString() => Protocol + "/" + Address;
}
