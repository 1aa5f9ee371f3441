using System.Text.Json;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Tests.Cluster;

namespace FlowOrleans.Tests.Cli;

/// <summary>The Silo program in its own process and a flowctl echo server beside it, shared by the cluster verb tests.</summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class SiloWithEchoServer : IAsyncLifetime
{
    private readonly CancellationTokenSource _stop = new();
    private Task<int>? _server;

    internal SiloProcess Silo { get; private set; } = null!;

    /// <summary>The endpoint of <c>flowctl serve</c>, an echo server outside the cluster.</summary>
    public string EchoEndpoint { get; private set; } = "";

    /// <summary>The owner capability file of the tests' cluster verbs (made by the first verb that needs it).</summary>
    public string OwnerFile { get; } = Path.Combine(Path.GetTempPath(), "flowctl-owner-" + Guid.NewGuid().ToString("N")[..8]);

    /// <summary>The cluster options of every cluster verb run against <see cref="Silo"/>.</summary>
    public string[] Target => TargetAs(OwnerFile);

    /// <summary>The cluster options with another owner capability file.</summary>
    public string[] TargetAs(string ownerFile) => ["--gateway", $"127.0.0.1:{Silo.GatewayPort}", "--cluster-id", Silo.ClusterId, "--owner", ownerFile];

    public async ValueTask InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        Silo = await SiloProcess.StartAsync(timeout.Token);
        var (server, output, _) = Flowctl.Start(["serve"], _stop.Token);
        _server = server;
        EchoEndpoint = await output.WaitForEndpointAsync("listening on ", timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_server is not null)
        {
            await _server;
        }

        await Silo.DisposeAsync();
        _stop.Dispose();
        File.Delete(OwnerFile);
    }
}

/// <summary>cluster status|pin|unpin|dial|accept through an Orleans client of the real Silo program's gateway.</summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class ClusterVerbTests(SiloWithEchoServer fixture) : IClassFixture<SiloWithEchoServer>
{
    private Task<FlowctlResult> Cluster(params string[] args) => Flowctl.RunAsync(["cluster", .. args, .. fixture.Target]);

    [Fact]
    public async Task StatusShowsTheSiloItsListenersAndConnections()
    {
        var json = await Cluster("status", "--json");
        Assert.Equal(0, json.ExitCode);
        var silo = Assert.Single(json.Json.GetProperty("silos").EnumerateArray());
        Assert.Equal(fixture.Silo.Endpoints, silo.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()));
        Assert.False(string.IsNullOrEmpty(silo.GetProperty("routingId").GetString()));
        Assert.Equal(JsonValueKind.Array, silo.GetProperty("connections").ValueKind);
        Assert.Equal(JsonValueKind.Array, json.Json.GetProperty("pins").ValueKind);

        var tables = await Cluster("status");
        Assert.Equal(0, tables.ExitCode);
        foreach (var title in new[] { "silos", "listeners", "connections", "pins" })
        {
            Assert.Contains(title, tables.Output);
        }

        Assert.Contains(silo.GetProperty("siloKey").GetString()!, tables.Output);
    }

    [Fact]
    public async Task DialThroughTheSiloChecksTheEcho()
    {
        var bytes = await Cluster("dial", fixture.EchoEndpoint, "--bytes", "256KiB", "--json");
        Assert.Equal(0, bytes.ExitCode);
        Assert.True(bytes.Json.GetProperty("echoMatched").GetBoolean());
        Assert.Equal(256 * 1024, bytes.Json.GetProperty("bytesReceived").GetInt64());
        var siloKey = bytes.Json.GetProperty("via").GetString()!;

        var message = await Cluster("dial", fixture.EchoEndpoint, "--message", "through the silo", "--silo", siloKey);
        Assert.Equal(0, message.ExitCode);
        Assert.Contains($"via silo {siloKey}", message.Output);
        Assert.Contains("through the silo", message.Output);

        // The silo now holds a connection to the echo server, with an RTT.
        var status = (await Cluster("status", "--json")).Json;
        var connections = status.GetProperty("silos")[0].GetProperty("connections").EnumerateArray().ToArray();
        var echoRoutingId = Transport.Endpoints.Endpoint.Parse(fixture.EchoEndpoint).RoutingId.ToString();
        Assert.Contains(connections, c => c.GetProperty("remoteEndpoint").GetString()!.Contains(echoRoutingId, StringComparison.Ordinal));
        Assert.All(connections, c => Assert.Equal(JsonValueKind.Number, c.GetProperty("rttMs").ValueKind));
        Assert.All(connections, c => Assert.InRange(c.GetProperty("ageSeconds").GetDouble(), 0, TimeSpan.FromMinutes(30).TotalSeconds));
        Assert.Contains("age", (await Cluster("status")).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PinAndUnpinShowInStatus()
    {
        var name = "flowctl-" + Guid.NewGuid().ToString("N")[..8];
        var pin = await Cluster("pin", name, fixture.EchoEndpoint, "--json");
        Assert.Equal(0, pin.ExitCode);
        Assert.Equal("Pinned", pin.Json.GetProperty("status").GetString());
        var owner = pin.Json.GetProperty("ownerSilo").GetString();
        Assert.False(string.IsNullOrEmpty(owner));

        var status = (await Cluster("status", "--json")).Json;
        var listed = Assert.Single(status.GetProperty("pins").EnumerateArray(), p => p.GetProperty("name").GetString() == name);
        Assert.Equal(owner, listed.GetProperty("ownerSilo").GetString());
        Assert.Equal("Pinned", listed.GetProperty("status").GetString());
        Assert.Contains(status.GetProperty("silos")[0].GetProperty("pins").EnumerateArray(), p => p.GetProperty("name").GetString() == name);
        Assert.Contains(name, (await Cluster("status")).Output);

        // The pin is the owner file's: a client with another owner can neither unpin nor re-pin it.
        var otherOwner = fixture.OwnerFile + ".other";
        try
        {
            var refused = await Flowctl.RunAsync(["cluster", "unpin", name, .. fixture.TargetAs(otherOwner)]);
            Assert.Contains("belongs to another owner", refused.AssertOneLineFailure(ExitCode.NotTrusted));
            (await Flowctl.RunAsync(["cluster", "pin", name, fixture.EchoEndpoint, .. fixture.TargetAs(otherOwner)])).AssertOneLineFailure(ExitCode.NotTrusted);
        }
        finally
        {
            File.Delete(otherOwner);
        }

        var unpin = await Cluster("unpin", name, "--json");
        Assert.Equal(0, unpin.ExitCode);
        Assert.True(unpin.Json.GetProperty("unpinned").GetBoolean());
        status = (await Cluster("status", "--json")).Json;
        Assert.DoesNotContain(status.GetProperty("pins").EnumerateArray(), p => p.GetProperty("name").GetString() == name);
    }

    [Fact]
    public async Task AcceptEchoesAFlowAPeerOpensToTheSilo()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        var (accept, output, _) = Flowctl.Start(["cluster", "accept", "--count", "1", "--json", .. fixture.Target], stop.Token);
        await output.WaitForLineAsync(l => l.Contains("\"accepting\"", StringComparison.Ordinal), stop.Token);

        var dial = await Flowctl.RunAsync("dial", fixture.Silo.Endpoints[0], "--message", "to the cluster");
        Assert.Equal(0, dial.ExitCode);
        Assert.Contains("to the cluster", dial.Output);
        Assert.Equal(0, await accept);
        var echoed = Flowctl.JsonLines(output.ToString()).Single(e => e.GetProperty("event").GetString() == "echoed");
        Assert.Equal("to the cluster".Length, echoed.GetProperty("bytes").GetInt64());
    }

    [Fact]
    public async Task AcceptPrintsAFlowWithPrint()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        var (accept, output, _) = Flowctl.Start(["cluster", "accept", "--count", "1", "--print", .. fixture.Target], stop.Token);
        await output.WaitForLineAsync(l => l.StartsWith("accepting flows on 'default'", StringComparison.Ordinal), stop.Token);

        var dial = await Flowctl.RunAsync("dial", fixture.Silo.Endpoints[0], "--message", "printed, not echoed");
        Assert.Equal(0, dial.ExitCode);
        Assert.Equal(0, await accept);
        Assert.Contains("printed, not echoed", output.ToString());
        Assert.Contains(" via silo ", output.ToString());
    }

    [Fact]
    public async Task ADialRequiringBlessingsTheRemoteLacksIsNotTrusted()
    {
        // The echo server is self-blessed: the silo, which accepts it by default in development, recognises no root
        // that makes it acme:echo.
        var dial = await Cluster("dial", fixture.EchoEndpoint, "--message", "x", "--blessing", "acme:echo");
        dial.AssertOneLineFailure(ExitCode.NotTrusted);
    }

    [Fact]
    public async Task ASiloKeyOfNoActiveSiloIsRefusedByTheCluster()
    {
        var dial = await Cluster("dial", fixture.EchoEndpoint, "--message", "x", "--silo", "127.0.0.1:1@1");
        Assert.Contains("--silo '127.0.0.1:1@1'", dial.AssertOneLineFailure(ExitCode.Refused));
    }

    [Fact]
    public async Task AGatewayNobodyListensOnIsClusterUnavailable()
    {
        var port = ChildProcesses.FreePort();
        var status = await Flowctl.RunAsync("cluster", "status", "--gateway", $"127.0.0.1:{port}", "--connect-timeout", "20s");
        Assert.Contains($"--gateway 127.0.0.1:{port}", status.AssertOneLineFailure(ExitCode.ClusterUnavailable));
    }
}
