using System.Diagnostics;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport.Manager;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cluster;

/// <summary>
/// The deployment path with real binaries: the Silo program prepares an empty database (<c>init-db</c>), and two silo
/// processes on PostgreSQL membership form one cluster that a client finds through the same database, as pods would.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Database)]
[Collection(PostgresCollection.Name)]
public sealed class SiloProcessClusterTests(PostgresServer postgres)
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(150);

    [Fact]
    public async Task InitDbCreatesTheSchemaExactlyOnceEvenWhenSilosRaceForIt()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        var database = await postgres.CreateEmptyDatabaseAsync();

        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => SiloProcess.RunCommandAsync(["init-db", database], ct)));
        Assert.All(runs, r => Assert.Equal(0, r.ExitCode));
        Assert.Equal(1, runs.Count(r => r.Output.Contains("Created the FlowOrleans schema", StringComparison.Ordinal)));
        Assert.Equal(2, runs.Count(r => r.Output.Contains("already there", StringComparison.Ordinal)));
        Assert.Contains("UpsertReminderRowKey", await postgres.QueryAsync(database, "SELECT QueryKey FROM OrleansQuery"), StringComparison.Ordinal);

        var missing = await SiloProcess.RunCommandAsync(["init-db"], ct);
        Assert.Equal(2, missing.ExitCode);
    }

    [Fact]
    public async Task TwoSiloProcessesOnPostgreSqlFormOneClusterAndPinsLeaveAKilledOne()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        var database = await postgres.CreateEmptyDatabaseAsync();
        Assert.Equal(0, (await SiloProcess.RunCommandAsync(["init-db", database], ct)).ExitCode);
        await using var server = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("two-silo-server") });
        var listener = await server.ListenAsync("tcp", "127.0.0.1:0", ct);
        var clusterId = "pods-" + Guid.NewGuid().ToString("N")[..8];
        using var certificates = Security.TestCertificates.Create();
        using var clientTls = certificates.Load(certificates.Client);
        string[] settings =
        [
            "--Silo:Storage=PostgreSQL", $"--Silo:PostgreSql={database}", "--Silo:AdvertisedAddress=127.0.0.1",
            "--FlowOrleans:Trust:AllowEveryone=true", "--FlowOrleans:Policy:Profile=Development",
            .. certificates.SiloSettings(certificates.Silo),
        ];

        await using var first = await SiloProcess.StartAsync(ChildProcesses.FreePort(), ChildProcesses.FreePort(), clusterId, settings, ct);
        await using var second = await SiloProcess.StartAsync(ChildProcesses.FreePort(), ChildProcesses.FreePort(), clusterId, settings, ct);
        await using var client = await ProcessClient.ConnectAsync(
            c => c.Configure<Orleans.Configuration.ClusterOptions>(o =>
                {
                    o.ClusterId = clusterId;
                    o.ServiceId = "flow-orleans";
                })
                .UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = database;
                }),
            ct,
            clientTls);
        var flows = client.Flows;
        while ((await flows.GetSilosAsync(ct)).Count != 2)
        {
            await Task.Delay(100, ct);
        }

        var names = Enumerable.Range(0, 6).Select(i => $"pod-pin-{i}").ToArray();
        foreach (var name in names)
        {
            Assert.Equal(PinStatus.Pinned, (await flows.PinAsync(name, listener.Endpoint.ToString(), cancellationToken: ct)).Status);
        }

        // Kill the process that owns the first pin; its silo key is the one that process printed endpoints for.
        var pins = await flows.GetPinsAsync(ct);
        var statuses = await flows.GetStatusAsync(ct);
        var victimKey = pins.First(p => p.Name == names[0]).OwnerSilo!;
        var victimEndpoint = statuses.Single(s => s.SiloKey == victimKey).Endpoints.Single().ToString();
        var victim = first.Endpoints.Contains(victimEndpoint) ? first : second;
        var clock = Stopwatch.StartNew();
        await victim.KillAsync();

        // Until membership declares the victim dead, calls routed to it are rejected. A dial is not repeated: it fails
        // saying the cluster is failing over. Reads retry through that window (FlowClient.FailoverRetryLimit), so
        // none of the calls below throws.
        var dial = await Assert.ThrowsAsync<FlowOrleans.Transport.FlowException>(() => flows.DialAsync(listener.Endpoint, victimKey, ct));
        Assert.Equal(FlowOrleans.Transport.FlowErrorCode.Network, dial.Code);
        Assert.Contains("failing over", dial.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(victimKey, (await flows.GetStatusAsync(ct)).Select(s => s.SiloKey));
        while (true)
        {
            var after = await flows.GetPinsAsync(ct);
            if (after.Count == names.Length && after.All(p => p.Status == PinStatus.Pinned && p.OwnerSilo != victimKey))
            {
                break;
            }

            await Task.Delay(200, ct);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"Two silo processes: pins left the killed one in {clock.ElapsedMilliseconds} ms");

        // The survivor acts on the death as soon as it learns of it; the silo answering the management call may read
        // the membership table a moment later, so the list is waited for rather than read once.
        while ((await flows.GetSilosAsync(ct)).Count != 1)
        {
            await Task.Delay(200, ct);
        }

        Assert.NotEqual(victimKey, Assert.Single(await flows.GetSilosAsync(ct)));
    }
}
