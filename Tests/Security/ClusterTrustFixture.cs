using System.Net;
using System.Net.Sockets;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Security;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// A one-silo cluster configured as production would be: trust names the acme root and requires <c>acme</c> blessings
/// of peers and <c>acme:echo</c> of dialed peers by default (no <c>AllowEveryone</c>); the client policy allows dials
/// only to a few loopback ports and listens only under one unix directory. The silo's protocols record every dial and
/// listen (<see cref="RecordingProtocols"/>). Outside it: the acme echo server, an impostor calling itself
/// <c>acme:echo</c>, an open port that speaks HTTP, a closed port, and an open port the policy does not list.
/// </summary>
public sealed class ClusterTrustFixture : IAsyncLifetime
{
    private readonly List<Task> _serving = [];
    private readonly CancellationTokenSource _stop = new();

    internal TrustWorld World { get; } = new();

    internal RecordingProtocols Network { get; } = new();

    public InProcessTestCluster Cluster { get; private set; } = null!;

    internal EchoServer Echo { get; private set; } = null!;

    internal EchoServer Impostor { get; private set; } = null!;

    /// <summary>Allowed by the policy, and answers like an HTTP server, not a flow peer.</summary>
    public TcpListener Http { get; } = new(IPAddress.Loopback, 0);

    /// <summary>Not allowed by the policy; counts the connections it gets (it must get none).</summary>
    public TcpListener Scanned { get; } = new(IPAddress.Loopback, 0);

    private int _scannedConnections;

    /// <summary>Connections <see cref="Scanned"/> accepted.</summary>
    public int ScannedConnections => Volatile.Read(ref _scannedConnections);

    /// <summary>Allowed by the policy; nobody listens there.</summary>
    public int ClosedPort { get; } = ChildProcesses.FreePort();

    /// <summary>Where clients may ask the silo to listen on unix sockets.</summary>
    public string UnixDirectory { get; } = Path.Combine(Path.GetTempPath(), "flow-unix-" + Guid.NewGuid().ToString("N")[..8]);

    public static int Port(TcpListener listener) => ((IPEndPoint)listener.LocalEndpoint).Port;

    /// <summary>The silo's grains as the silo itself calls them.</summary>
    public IGrainFactory SiloGrains => Cluster.GetSiloServiceProvider(Cluster.Silos[0].SiloAddress).GetRequiredService<IGrainFactory>();

    public string SiloKey => SiloKeys.ToKey(Cluster.Silos[0].SiloAddress);

    /// <summary>A new application on the test client, with an owner capability of its own.</summary>
    public FlowClient NewApplication() => new(Cluster.Client);

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(UnixDirectory);
        Echo = await EchoServer.StartAsync(new FlowManager(new FlowManagerOptions { Principal = World.Blessed("echo") }), _stop.Token);
        Impostor = await EchoServer.StartAsync(new FlowManager(new FlowManagerOptions { Principal = World.SelfBlessed("acme:echo") }), _stop.Token);
        Http.Start();
        Scanned.Start();
        _serving.Add(AnswerHttpAsync(_stop.Token));
        _serving.Add(CountAsync(_stop.Token));

        int[] allowedPorts = [Echo.Listener.Endpoint.Port(), Impostor.Listener.Endpoint.Port(), Port(Http), ClosedPort];
        var world = World;
        var network = Network;
        var unix = UnixDirectory;
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(FlowStorageNames.Default)
                .UseInMemoryReminderService()
                .AddFlowOrleansMemoryStreams()
                .AddFlowOrleans(o =>
                {
                    o.Listen.Add("tcp/127.0.0.1:0");
                    o.Trust.Roots.Add(new TrustedRoot { PublicKey = world.RootKey, Pattern = "acme" });
                    o.Trust.AcceptPatterns.Add("acme");
                    o.Trust.DialPatterns.Add("acme:echo");
                    o.Policy.Dial.Networks = ["127.0.0.1/32"];
                    o.Policy.Dial.DeniedNetworks = [];
                    o.Policy.Dial.Ports = allowedPorts.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
                    o.Policy.Listen.UnixDirectory = unix;
                });
            silo.Services.Configure<FlowManagerOptions>(o => o.Protocols = network.Registry);
        });
        builder.ConfigureClient(client => client.AddFlowOrleansMemoryStreams());
        Cluster = builder.Build();
        await Cluster.DeployAsync();
        await Cluster.WaitForLivenessToStabilizeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (Cluster is not null)
        {
            await Cluster.DisposeAsync();
        }

        await _stop.CancelAsync();
        Http.Stop();
        Scanned.Stop();
        await Task.WhenAll(_serving.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
        await Echo.DisposeAsync();
        await Impostor.DisposeAsync();
        World.Dispose();
        _stop.Dispose();
        Directory.Delete(UnixDirectory, recursive: true);
    }

    private async Task AnswerHttpAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            using var socket = await Http.AcceptSocketAsync(ct);
            await socket.SendAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), ct);
            socket.Shutdown(SocketShutdown.Both);
        }
    }

    private async Task CountAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            using var socket = await Scanned.AcceptSocketAsync(ct);
            Interlocked.Increment(ref _scannedConnections);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterTrustCollection : ICollectionFixture<ClusterTrustFixture>
{
    public const string Name = "ClusterTrust";
}

/// <summary>Port of a TCP endpoint, for the fixture's allow-list.</summary>
internal static class EndpointPorts
{
    public static int Port(this Transport.Endpoints.Endpoint endpoint) =>
        int.Parse(endpoint.Address[(endpoint.Address.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
}
