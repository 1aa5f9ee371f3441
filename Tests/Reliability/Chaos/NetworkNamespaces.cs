using System.Globalization;
using System.Net;
using FlowOrleans.Tests.Cluster;

namespace FlowOrleans.Tests.Reliability.Chaos;

/// <summary>
/// A private network on this machine for processes that must have addresses of their own: a bridge in the host
/// namespace holding the first address of a /24, and one network namespace per member, joined to the bridge by a veth
/// pair, with its own address, loopback up and a default route through the bridge. Cutting a member off is taking its
/// host-side veth down: its sockets stay open but nothing passes, as when a machine's link fails. Needs root (the
/// tests run as root); a failure to build the network fails the test with what <c>ip</c> said, it is never skipped.
/// </summary>
/// <remarks>
/// Interface names are at most 15 characters, so every name is <c>fcx</c>, the owning process's id in hex and a short
/// suffix; leftovers of earlier runs (a test process that was killed) are recognised by that prefix and an owner that
/// no longer runs, and removed when the next network is created. Networks of other live test processes are left alone.
/// </remarks>
internal sealed class NetworkNamespaces : IAsyncDisposable
{
    private const string Prefix = "fcx";
    private const string NamespacePrefix = "flowchaos-";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);
    private static int s_networks;

    private readonly string _tag;
    private readonly List<string> _namespaces = [];
    private bool _bridgeCreated;

    private NetworkNamespaces(string tag, byte subnet)
    {
        _tag = tag;
        Subnet = subnet;
        Bridge = $"{Prefix}{tag}s";
    }

    /// <summary>The bridge's name in the host namespace.</summary>
    public string Bridge { get; }

    /// <summary>The third octet of the /24: the network is 10.251.<c>Subnet</c>.0/24.</summary>
    public byte Subnet { get; }

    /// <summary>The bridge's own address: the host namespace as the members reach it.</summary>
    public IPAddress HostAddress => Address(1);

    /// <summary>The network in CIDR form.</summary>
    public string Cidr => $"10.251.{Subnet}.0/24";

    public int Count => _namespaces.Count;

    /// <summary>Creates the bridge and <paramref name="members"/> namespaces, after removing leftovers of dead runs.</summary>
    public static async Task<NetworkNamespaces> CreateAsync(int members, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(members, 9);
        await RemoveLeftoversAsync(cancellationToken);

        // One tag per network of this process: its id in hex (at most 6 digits on Linux) and a counter digit.
        var tag = Environment.ProcessId.ToString("x", CultureInfo.InvariantCulture) + (Interlocked.Increment(ref s_networks) % 10).ToString(CultureInfo.InvariantCulture);
        var subnet = await FreeSubnetAsync(cancellationToken);
        var network = new NetworkNamespaces(tag, subnet);
        try
        {
            await network.BuildAsync(members, cancellationToken);
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }

        return network;
    }

    /// <summary>The namespace of member <paramref name="member"/>, as <c>ip netns exec</c> takes it.</summary>
    public string Namespace(int member) => _namespaces[member];

    /// <summary>The address of member <paramref name="member"/> in its namespace.</summary>
    public IPAddress MemberAddress(int member) => Address(10 + member);

    /// <summary>The command line prefix that runs a program inside member <paramref name="member"/>'s namespace.</summary>
    public IReadOnlyList<string> Launcher(int member) => ["ip", "netns", "exec", Namespace(member)];

    /// <summary>Takes member <paramref name="member"/>'s link down (cut off) or up again.</summary>
    public Task SetLinkAsync(int member, bool up, CancellationToken cancellationToken) =>
        IpAsync(cancellationToken, "link", "set", HostVeth(member), up ? "up" : "down");

    public async ValueTask DisposeAsync()
    {
        // Deleting a namespace deletes the veth end inside it, and with it the pair. Best effort, each on its own:
        // a failure here must not hide the test's result, and the next run removes what is left.
        foreach (var ns in _namespaces)
        {
            await TryIpAsync("netns", "delete", ns);
            DeleteEtcDirectory(ns);
        }

        if (_bridgeCreated)
        {
            await TryIpAsync("link", "delete", Bridge);
        }
    }

    private static string EtcDirectory(string ns) => Path.Combine("/etc/netns", ns);

    private static void DeleteEtcDirectory(string ns)
    {
        try
        {
            Directory.Delete(EtcDirectory(ns), recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone already, or never made: nothing to clean.
        }
    }

    private IPAddress Address(int host) => new([10, 251, Subnet, (byte)host]);

    private string HostVeth(int member) => $"{Prefix}{_tag}h{member}";

    private string InnerVeth(int member) => $"{Prefix}{_tag}p{member}";

    private async Task BuildAsync(int members, CancellationToken ct)
    {
        await IpAsync(ct, "link", "add", Bridge, "type", "bridge");
        _bridgeCreated = true;
        await IpAsync(ct, "addr", "add", $"{HostAddress}/24", "dev", Bridge);
        await IpAsync(ct, "link", "set", Bridge, "up");
        for (var i = 0; i < members; i++)
        {
            var ns = $"{NamespacePrefix}{_tag}-{i}";
            await IpAsync(ct, "netns", "add", ns);
            _namespaces.Add(ns);

            // The host's name server is not reachable from the namespace: a lookup there (a reverse lookup of an
            // address, say) would wait out the resolver's timeouts, 10 s, inside whatever called it. ip netns exec
            // mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf: a name server on the namespace's own loopback,
            // where nothing listens, makes every lookup fail at once instead, as on a host without DNS.
            Directory.CreateDirectory(EtcDirectory(ns));
            await File.WriteAllTextAsync(Path.Combine(EtcDirectory(ns), "resolv.conf"), "nameserver 127.0.0.1\n", ct);
            await IpAsync(ct, "link", "add", HostVeth(i), "type", "veth", "peer", "name", InnerVeth(i));
            await IpAsync(ct, "link", "set", InnerVeth(i), "netns", ns);
            await IpAsync(ct, "link", "set", HostVeth(i), "master", Bridge);
            await IpAsync(ct, "link", "set", HostVeth(i), "up");
            await IpAsync(ct, "-n", ns, "link", "set", "lo", "up");
            await IpAsync(ct, "-n", ns, "addr", "add", $"{MemberAddress(i)}/24", "dev", InnerVeth(i));
            await IpAsync(ct, "-n", ns, "link", "set", InnerVeth(i), "up");
            await IpAsync(ct, "-n", ns, "route", "add", "default", "via", HostAddress.ToString());
        }
    }

    /// <summary>A third octet under 10.251.0.0/16 that no address or route of the host uses yet, from the process id.</summary>
    private static async Task<byte> FreeSubnetAsync(CancellationToken ct)
    {
        var used = await IpAsync(ct, "-4", "-o", "addr", "show") + await IpAsync(ct, "-4", "route", "show");
        for (var i = 0; i < 250; i++)
        {
            var candidate = (byte)(((Environment.ProcessId + i) % 250) + 1);
            if (!used.Contains($"10.251.{candidate}.", StringComparison.Ordinal))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No free /24 under 10.251.0.0/16 for the chaos network: every one is in use on this machine.");
    }

    /// <summary>Removes namespaces and links of this helper whose owning process is gone.</summary>
    private static async Task RemoveLeftoversAsync(CancellationToken ct)
    {
        foreach (var line in (await IpAsync(ct, "netns", "list")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (name.StartsWith(NamespacePrefix, StringComparison.Ordinal) && IsLeftover(name[NamespacePrefix.Length..]))
            {
                await TryIpAsync("netns", "delete", name);
                DeleteEtcDirectory(name);
            }
        }

        foreach (var line in (await IpAsync(ct, "-o", "link", "show")).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // "12: fcx1a2b3s: <BROADCAST..." or "13: fcx1a2b3h0@if12: ..."
            var parts = line.Split(':', 3);
            var name = parts.Length > 1 ? parts[1].Trim().Split('@')[0] : "";
            if (name.StartsWith(Prefix, StringComparison.Ordinal) && IsLeftover(name[Prefix.Length..]))
            {
                await TryIpAsync("link", "delete", name);
            }
        }
    }

    /// <summary>
    /// True if <paramref name="tag"/> (the owner's pid in hex, a counter digit, then a suffix that is no hex digit)
    /// names a process that is gone.
    /// </summary>
    private static bool IsLeftover(string tag)
    {
        var hex = new string(tag.TakeWhile(Uri.IsHexDigit).ToArray());
        return hex.Length >= 2
            && int.TryParse(hex[..^1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var pid)
            && !Directory.Exists($"/proc/{pid}");
    }

    private static async Task<string> IpAsync(CancellationToken ct, params string[] args)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(CommandTimeout);
        var (exitCode, output, error) = await ChildProcesses.RunAsync("ip", args, timeout.Token);
        if (exitCode != 0)
        {
            throw new InvalidOperationException(
                $"The chaos test needs network namespaces, veth pairs and a bridge (root, iproute2): 'ip {string.Join(' ', args)}' exited with {exitCode}: {error.Trim()}");
        }

        return output;
    }

    private static async Task TryIpAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(CommandTimeout);
        try
        {
            await ChildProcesses.RunAsync("ip", args, timeout.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Best effort: the next run removes what is left.
        }
    }
}
