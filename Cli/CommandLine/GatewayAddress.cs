using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace FlowOrleans.Cli.CommandLine;

/// <summary>An Orleans gateway as <c>--gateway</c> writes it: <c>host:port</c>, IPv6 hosts in brackets.</summary>
internal readonly record struct GatewayAddress(string Host, int Port)
{
    /// <summary>The silo's default gateway on this machine (<c>Silo:GatewayPort</c> 30000).</summary>
    public static GatewayAddress Default { get; } = new("127.0.0.1", 30000);

    public static bool TryParse(string text, [NotNullWhen(true)] out GatewayAddress gateway)
    {
        gateway = default;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 ||
            !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            return false;
        }

        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            return false; // An IPv6 address needs brackets, or its last group would read as the port.
        }

        if (host.Length == 0)
        {
            return false;
        }

        gateway = new GatewayAddress(host, port);
        return true;
    }

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}
