using System.Diagnostics;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Grains.Hosting;
using FlowOrleans.Transport.Manager;
using Orleans.Configuration;
using Orleans.TestingHost;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>Clusters whose grain state and reminders live in a real PostgreSQL database, stopped and started whole.</summary>
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

        string firstOwner;
        var first = await StartClusterAsync(database, serviceId, ensurePinsOnStart);
        try
        {
            var pinned = await new FlowClient(first.Client).PinAsync("durable", listener.Endpoint.ToString(), cancellationToken: ct);
            Assert.Equal(PinStatus.Pinned, pinned.Status);
            firstOwner = pinned.OwnerSilo!;
            await WaitUntilAsync(() => server.Connections.Count == 1, ct);
        }
        finally
        {
            await first.DisposeAsync();
        }

        // Every silo is gone, and with them the pinned connection and every timer; only storage and the reminder table remain.
        await WaitUntilAsync(() => server.Connections.Count == 0, ct);
        var reminders = await postgres.QueryAsync(database, "SELECT GrainId, ReminderName, Period FROM OrleansRemindersTable");
        Console.WriteLine("REMINDERS: " + reminders);
        Assert.Contains("re-pin", reminders, StringComparison.Ordinal);

        var clock = Stopwatch.StartNew();
        var second = await StartClusterAsync(database, serviceId, ensurePinsOnStart);
        try
        {
            // Nothing calls the pin grain until the connection is back: without the start-up check only its reminder can wake it.
            await WaitUntilAsync(() => server.Connections.Count == 1, ct, () => string.Join(", ", server.Connections.Select(c => $"{c.RemoteEndpoint} closed={c.Closed.IsCompleted}")));
            clock.Stop();
            Console.WriteLine($"Full restart (ensure on start: {ensurePinsOnStart}): the pin came back {clock.ElapsedMilliseconds} ms after the new cluster began starting");

            var pin = Assert.Single(await new FlowClient(second.Client).GetPinsAsync(ct));
            Assert.Equal("durable", pin.Name);
            Assert.Equal(PinStatus.Pinned, pin.Status);
            Assert.NotEqual(firstOwner, pin.OwnerSilo);
            Assert.Contains(pin.OwnerSilo, second.Silos.Select(s => SiloKeys.ToKey(s.SiloAddress)));
            Assert.True(pin.Moves >= 1, $"moves {pin.Moves}");

            // Unpinned, the connection stays cached but no silo keeps it up any more.
            var flows = new FlowClient(second.Client);
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

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken, Func<string>? describe = null)
    {
        while (!condition())
        {
            try
            {
                await Task.Delay(20, cancellationToken);
            }
            catch (OperationCanceledException) when (describe is not null)
            {
                Assert.Fail("Timed out: " + describe());
            }
        }
    }
}
