using System.Diagnostics;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.TestingHost;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>Clusters whose grain state and reminders live in a real PostgreSQL database, stopped and started whole.</summary>
[Trait(TestKinds.Name, TestKinds.Database)]
[Collection(PostgresCollection.Name)]
public sealed class DurableClusterTests(PostgresServer postgres)
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(120);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PinsComeBackAfterEverySiloRestarted(bool ensurePinsOnStart)
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        var database = await postgres.CreateDatabaseAsync();
        var serviceId = "durable-" + Guid.NewGuid().ToString("N")[..8];
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("durable-server") });
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);

        // The application keeps its owner capability across the restart, as one that manages its pins must.
        var owner = Capability.NewRandom();
        string firstOwner;
        var first = await StartClusterAsync(database, serviceId, ensurePinsOnStart);
        try
        {
            var pinned = await new FlowClient(first.Client, owner: owner).PinAsync("durable", listener.Endpoint.ToString(), cancellationToken: ct);
            Assert.Equal(PinStatus.Pinned, pinned.Status);
            firstOwner = pinned.OwnerSilo!;
            await WaitUntilAsync(() => server.Connections.Count == 1, cancellationToken: ct);
        }
        finally
        {
            await first.DisposeAsync();
        }

        // Every silo is gone, and with them the pinned connection and every timer; only storage and the reminder table remain.
        await WaitUntilAsync(() => server.Connections.Count == 0, cancellationToken: ct);
        var reminders = await postgres.QueryAsync(database, "SELECT GrainId, ReminderName, Period FROM OrleansRemindersTable");
        Assert.Contains("re-pin", reminders, StringComparison.Ordinal);

        var clock = Stopwatch.StartNew();
        var second = await StartClusterAsync(database, serviceId, ensurePinsOnStart);
        try
        {
            // Nothing calls the pin grain until the connection is back: without the start-up check only its reminder can wake it.
            await WaitUntilAsync(() => server.Connections.Count == 1, () => string.Join(", ", server.Connections.Select(c => $"{c.RemoteEndpoint} closed={c.Closed.IsCompleted}")), ct);
            clock.Stop();
            TestContext.Current.TestOutputHelper?.WriteLine($"Full restart (ensure on start: {ensurePinsOnStart}): the pin came back {clock.ElapsedMilliseconds} ms after the new cluster began starting");

            var pin = Assert.Single(await new FlowClient(second.Client, owner: owner).GetPinsAsync(ct));
            Assert.Equal("durable", pin.Name);
            Assert.Equal(PinStatus.Pinned, pin.Status);
            Assert.NotEqual(firstOwner, pin.OwnerSilo);
            Assert.Contains(pin.OwnerSilo, second.Silos.Select(s => SiloKeys.ToKey(s.SiloAddress)));
            Assert.True(pin.Moves >= 1, $"moves {pin.Moves}");

            // Unpinned, the connection stays cached but no silo keeps it up any more.
            var flows = new FlowClient(second.Client, owner: owner);
            await flows.UnpinAsync("durable", ct);
            Assert.Empty(await flows.GetPinsAsync(ct));
            Assert.All(await flows.GetStatusAsync(ct), status => Assert.Empty(status.Pins));
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    private static async Task<InProcessTestCluster> StartClusterAsync(string database, string serviceId, bool ensurePinsOnStart)
    {
        var builder = new InProcessTestClusterBuilder(2);
        builder.Options.ServiceId = serviceId;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddFlowOrleansPostgresStorage(database)
                .Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1))
                .AddFlowOrleansMemoryStreams()
                .AddFlowOrleans(o =>
                {
                    TestSiloOptions.Development(o);
                    o.Listen.Add("tcp/127.0.0.1:0");
                    o.PinReminderPeriod = TimeSpan.FromSeconds(2);
                    o.EnsurePinsOnStart = ensurePinsOnStart;
                });
        });
        builder.ConfigureClient(client => client.AddFlowOrleansMemoryStreams());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    [Fact]
    public async Task AnAcceptorsStreamSubscriptionIsKeptInPostgreSql()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        var database = await postgres.CreateDatabaseAsync();
        var cluster = await StartClusterAsync(database, "pubsub-" + Guid.NewGuid().ToString("N")[..8], ensurePinsOnStart: true);
        try
        {
            // Memory PubSubStore would lose this subscription with the silo that held it; the acceptor would go deaf.
            await using var acceptor = await new FlowClient(cluster.Client).ListenAsync("durable-listeners");
            var rows = await postgres.QueryAsync(database, "SELECT graintypestring FROM OrleansStorage");
            Assert.Contains("pubsub", rows, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task TheSiloProgramOnPostgreSqlBringsItsPinBackAfterItWasKilledAndStartedAgain()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        var database = await postgres.CreateDatabaseAsync();
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("killed-silo-server") });
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        int siloPort = ChildProcesses.FreePort(), gatewayPort = ChildProcesses.FreePort();
        var clusterId = "pg-" + Guid.NewGuid().ToString("N")[..8];
        using var certificates = Security.TestCertificates.Create();
        using var siloTls = certificates.Load(certificates.Client);
        string[] settings =
        [
            "--Silo:Storage=PostgreSQL", $"--Silo:PostgreSql={database}",
            "--FlowOrleans:Trust:AllowEveryone=true", "--FlowOrleans:Policy:Profile=Development",
            .. certificates.SiloSettings(certificates.Silo),
        ];

        string firstSilo;
        await using (var silo = await SiloProcess.StartAsync(siloPort, gatewayPort, clusterId, settings, ct))
        {
            await using var client = await ProcessClient.ConnectAsync(gatewayPort, clusterId, ct, siloTls);
            var pinned = await client.Flows.PinAsync("survivor", listener.Endpoint.ToString(), cancellationToken: ct);
            Assert.Equal(PinStatus.Pinned, pinned.Status);
            firstSilo = pinned.OwnerSilo!;
            await WaitUntilAsync(() => server.Connections.Count == 1, cancellationToken: ct);
            await silo.KillAsync();
        }

        await WaitUntilAsync(() => server.Connections.Count == 0, cancellationToken: ct);

        // Same address, new generation: the new silo declares its crashed predecessor dead and takes the pin back.
        await using var restarted = await SiloProcess.StartAsync(siloPort, gatewayPort, clusterId, settings, ct);
        await WaitUntilAsync(() => server.Connections.Count == 1, () => $"{server.Connections.Count} connections", ct);
        await using var again = await ProcessClient.ConnectAsync(gatewayPort, clusterId, ct, siloTls);
        var pin = Assert.Single(await again.Flows.GetPinsAsync(ct));
        Assert.Equal(PinStatus.Pinned, pin.Status);
        Assert.NotEqual(firstSilo, pin.OwnerSilo);
        Assert.Equal(Assert.Single(await again.Flows.GetSilosAsync(ct)), pin.OwnerSilo);
    }
}
