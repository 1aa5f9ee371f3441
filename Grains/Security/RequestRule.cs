using System.Globalization;
using System.Net;
using FlowOrleans.Transport;

namespace FlowOrleans.Grains.Security;

/// <summary>One parsed allow-list of <see cref="ClientPolicyOptions"/>: protocols, networks, ports, a unix directory.</summary>
internal sealed class RequestRule
{
    /// <summary>Loopback, unspecified, link-local (where the AWS, GCP and Azure metadata services live) and the other
    /// clouds' metadata and host addresses: nothing a client should reach through a silo in production.</summary>
    private static readonly string[] HostAndMetadataNetworks =
    [
        "127.0.0.0/8", "::1/128", "0.0.0.0/8", "::/128", "169.254.0.0/16", "fe80::/10",
        "100.100.100.200/32", "168.63.129.16/32", "fd00:ec2::254/128",
    ];

    private static readonly string[] Loopback = ["127.0.0.0/8", "::1/128"];
    private static readonly string[] Anywhere = ["0.0.0.0/0", "::/0"];
    private static readonly string[] Tcp = ["tcp", "tcp4", "tcp6"];

    private readonly HashSet<string> _protocols;
    private readonly IPNetwork[] _networks;
    private readonly IPNetwork[] _denied;
    private readonly (int First, int Last)[] _ports;

    private RequestRule(HashSet<string> protocols, IPNetwork[] networks, IPNetwork[] denied, (int, int)[] ports, string? unixDirectory)
    {
        _protocols = protocols;
        _networks = networks;
        _denied = denied;
        _ports = ports;
        UnixDirectory = unixDirectory;
    }

    /// <summary>The full path unix sockets must lie under, with a trailing separator; null: none allowed.</summary>
    public string? UnixDirectory { get; }

    public static RequestRule ForDial(RequestRuleOptions options, PolicyProfile profile) => Create(
        options,
        Tcp,
        Anywhere,
        profile == PolicyProfile.Development ? HostAndMetadataNetworks.Except(Loopback).ToArray() : HostAndMetadataNetworks);

    public static RequestRule ForListen(RequestRuleOptions options, PolicyProfile profile) => Create(
        options,
        profile == PolicyProfile.Development ? Tcp : [],
        profile == PolicyProfile.Development ? Loopback : [],
        []);

    /// <summary>The problems of <paramref name="options"/>, each naming the value; empty when it parses.</summary>
    public static IEnumerable<string> Problems(RequestRuleOptions options, string name)
    {
        foreach (var network in (options.Networks ?? []).Concat(options.DeniedNetworks ?? []))
        {
            if (!IPNetwork.TryParse(network, out _))
            {
                yield return $"{name}: '{network}' is not a network in CIDR form (e.g. 10.0.0.0/8).";
            }
        }

        foreach (var port in options.Ports ?? [])
        {
            if (!TryParsePorts(port, out _))
            {
                yield return $"{name}: '{port}' is not a port or a range of ports (e.g. 8100 or 8000-8999).";
            }
        }

        if ((options.Protocols ?? []).Any(p => string.Equals(p, "unix", StringComparison.Ordinal)) && string.IsNullOrWhiteSpace(options.UnixDirectory))
        {
            yield return $"{name}: unix sockets are allowed by setting UnixDirectory, not by listing the protocol.";
        }

        if (options.UnixDirectory is { Length: > 0 } directory && !Path.IsPathFullyQualified(directory))
        {
            yield return $"{name}: UnixDirectory '{directory}' must be an absolute path.";
        }
    }

    public bool AllowsProtocol(string protocol) => _protocols.Contains(protocol.Length == 0 ? "tcp" : protocol);

    public bool AllowsPort(int port) => _ports.Length == 0 ? port is >= 0 and <= 65535 : _ports.Any(r => port >= r.First && port <= r.Last);

    /// <summary>In an allowed network and no denied one; IPv4-mapped IPv6 addresses count as the IPv4 address they carry.</summary>
    public bool AllowsAddress(IPAddress address)
    {
        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return _networks.Any(n => n.Contains(plain)) && !_denied.Any(n => n.Contains(plain));
    }

    /// <summary>True if <paramref name="path"/>, made absolute, lies strictly under <see cref="UnixDirectory"/>.</summary>
    public bool AllowsUnixPath(string path)
    {
        if (UnixDirectory is null || !Path.IsPathFullyQualified(path))
        {
            return false;
        }

        // GetFullPath folds "..", so "/allowed/../etc/x" is judged as "/etc/x".
        var full = Path.GetFullPath(path);
        return full.Length > UnixDirectory.Length && full.StartsWith(UnixDirectory, StringComparison.Ordinal);
    }

    private static RequestRule Create(RequestRuleOptions options, string[] protocols, string[] networks, string[] denied)
    {
        var unix = options.UnixDirectory is { Length: > 0 } directory
            ? Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)) + Path.DirectorySeparatorChar
            : null;
        return new RequestRule(
            new HashSet<string>(options.Protocols ?? protocols, StringComparer.Ordinal),
            (options.Networks ?? networks).Select(n => IPNetwork.Parse(n)).ToArray(),
            (options.DeniedNetworks ?? denied).Select(n => IPNetwork.Parse(n)).ToArray(),
            (options.Ports ?? []).Select(p => TryParsePorts(p, out var range) ? range : throw new FlowException(FlowErrorCode.BadArg, $"'{p}' is not a port range.")).ToArray(),
            unix);
    }

    private static bool TryParsePorts(string text, out (int First, int Last) range)
    {
        range = default;
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        var first = dash < 0 ? text : text[..dash];
        var last = dash < 0 ? text : text[(dash + 1)..];
        if (!int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var from)
            || !int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var to)
            || from > to || to > 65535)
        {
            return false;
        }

        range = (from, to);
        return true;
    }
}
