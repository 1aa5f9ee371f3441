using System.Net;
using System.Net.Sockets;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Protocols;
using Microsoft.Extensions.Configuration;
using Npgsql;
using Orleans.Configuration;

namespace FlowOrleans.Silo;

/// <summary>
/// What the silo checks before its host starts, so a bad setting stops it with one line naming the setting instead of
/// an Orleans start failing half way (and logging pages of it). Ports matter most: Orleans binds its silo and gateway
/// ports with SO_REUSEADDR, which .NET on Linux turns into SO_REUSEPORT as well, so a second silo on the same ports would
/// bind beside the first one (two clusters, clients split between them) instead of failing. The check binds each port
/// without SO_REUSEPORT, which fails while anyone listens there.
/// </summary>
internal static class StartChecks
{
    private static readonly string[] s_tcpProtocols = ["tcp", "tcp4", "tcp6", "ws", "ws4", "ws6", "wsh", "wsh4", "wsh6"];

    /// <summary>The <c>FlowOrleans:Listen:N</c> settings, each well formed and of a registered protocol.</summary>
    public static IReadOnlyList<(string Setting, ListenAddress Address)> ListenAddresses(IConfiguration configuration)
    {
        var addresses = new List<(string, ListenAddress)>();
        foreach (var entry in configuration.GetSection(FlowOrleansOptions.SectionName + ":Listen").GetChildren())
        {
            addresses.Add((entry.Path, ListenAddress(entry.Path, entry.Value)));
        }

        return addresses;
    }

    /// <summary>Parses a listen address a setting or argument named <paramref name="setting"/> gave.</summary>
    public static ListenAddress ListenAddress(string setting, string? text)
    {
        var registry = ProtocolRegistry.Default;
        var protocols = string.Join(", ", registry.RegisteredProtocols.Where(p => p.Length > 0));
        if (!Transport.Manager.ListenAddress.TryParse(text, out var address))
        {
            throw new SiloFailure(SiloExitCode.BadSetting, $"{setting} '{text}' is not valid; expected PROTOCOL/ADDRESS such as tcp/127.0.0.1:8100, with PROTOCOL one of {protocols}");
        }

        if (!registry.TryGet(address.Protocol, out _, out _))
        {
            throw new SiloFailure(SiloExitCode.BadSetting, $"{setting} '{text}' has the unknown protocol '{address.Protocol}'; expected PROTOCOL/ADDRESS with PROTOCOL one of {protocols}");
        }

        return address;
    }

    /// <summary>Fails naming the setting when the silo port, the gateway port or a TCP listen address with a fixed port is taken.</summary>
    public static void Ports(EndpointOptions endpoints, IEnumerable<(string Setting, ListenAddress Address)> listen)
    {
        var siloEndpoint = endpoints.SiloListeningEndpoint ?? new IPEndPoint(endpoints.AdvertisedIPAddress, endpoints.SiloPort);
        var gateway = endpoints.GatewayListeningEndpoint ?? new IPEndPoint(endpoints.AdvertisedIPAddress, endpoints.GatewayPort);
        Free($"{SiloHostOptions.SectionName}:{nameof(SiloHostOptions.SiloPort)}", siloEndpoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), siloEndpoint);
        Free($"{SiloHostOptions.SectionName}:{nameof(SiloHostOptions.GatewayPort)}", gateway.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), gateway);
        foreach (var (setting, address) in listen)
        {
            if (s_tcpProtocols.Contains(address.Protocol, StringComparer.Ordinal))
            {
                foreach (var endpoint in FixedPortEndpoints(address.Address))
                {
                    Free(setting, address.ToString(), endpoint);
                }
            }
        }
    }

    /// <summary>
    /// The addresses a listen address with a fixed port binds: itself when it is an IP address, else what its host name
    /// resolves to (a transport listener binds those too). Port 0, or a name that does not resolve, gives none: the
    /// listener itself reports those.
    /// </summary>
    private static IPEndPoint[] FixedPortEndpoints(string address)
    {
        if (IPEndPoint.TryParse(address, out var endpoint))
        {
            return endpoint.Port == 0 ? [] : [endpoint];
        }

        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture, out var port) || port is <= 0 or > IPEndPoint.MaxPort)
        {
            return [];
        }

        try
        {
            return Dns.GetHostAddresses(address[..colon]).Select(ip => new IPEndPoint(ip, port)).ToArray();
        }
        catch (SocketException)
        {
            return [];
        }
    }

    /// <summary>Throws <see cref="SiloExitCode.AddressInUse"/> unless <paramref name="endpoint"/> can be bound now.</summary>
    public static void Free(string setting, string value, IPEndPoint endpoint)
    {
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        if (OperatingSystem.IsLinux())
        {
            // SO_REUSEADDR alone (SOL_SOCKET 1, option 2): a port left in TIME_WAIT by a silo that just stopped is free,
            // one somebody listens on is not. Socket.ReuseAddress would add SO_REUSEPORT and share the port instead.
            socket.SetRawSocketOption(1, 2, BitConverter.GetBytes(1));
        }

        try
        {
            socket.Bind(endpoint);
        }
        catch (SocketException e)
        {
            var why = e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? $"is in use on {endpoint} (another silo or program listens there)"
                : $"cannot be bound on {endpoint} ({e.SocketErrorCode}: {StartFailures.OneLine(e.Message)})";
            throw new SiloFailure(SiloExitCode.AddressInUse, $"{setting} '{value}' {why}; expected a free port: stop the other program or choose another {setting}", e);
        }
    }

    /// <summary>
    /// Fails with <see cref="SiloExitCode.StorageUnavailable"/> unless the database of <paramref name="connectionString"/>
    /// answers and holds the schema: Orleans would otherwise retry its membership table for minutes.
    /// </summary>
    public static async Task StorageAsync(string connectionString, CancellationToken cancellationToken)
    {
        const string Setting = SiloHostOptions.SectionName + ":" + nameof(SiloHostOptions.PostgreSql);
        var shown = DatabaseSchema.Redacted(connectionString, Setting);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            if (!await DatabaseSchema.ExistsAsync(connectionString, timeout.Token))
            {
                throw new SiloFailure(SiloExitCode.StorageUnavailable, $"{Setting} '{shown}' has no FlowOrleans schema; expected a database prepared with 'FlowOrleans.Silo init-db'");
            }
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new SiloFailure(SiloExitCode.StorageUnavailable,
                $"{Setting} '{shown}' could not be reached ({DatabaseSchema.Describe(e)}); expected a running PostgreSQL server that accepts this login", e);
        }
    }
}
