using System.Text.Json;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cli;

/// <summary>The transport verbs over real tcp, in one process: serve, dial (message, file, random bytes), ping, proxy.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class FlowCtlTests
{
    /// <summary>The README's two-program example: flowctl serve and flowctl dial.</summary>
    [Fact]
    public async Task DialGetsTheEchoFromServe()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        var (server, serverOutput, _) = Flowctl.Start(["serve", "--listen", "tcp/127.0.0.1:0"], stop.Token);
        var endpoint = await serverOutput.WaitForEndpointAsync("listening on ", stop.Token);

        var dial = await Flowctl.RunAsync("dial", endpoint, "--message", "hello, flows");
        Assert.Equal(0, dial.ExitCode);
        Assert.Contains("hello, flows", dial.Output);
        Assert.Contains("flow-manager", dial.Output);
        await serverOutput.WaitForLineAsync(l => l.StartsWith("echoed 12 bytes", StringComparison.Ordinal), stop.Token);
        await stop.CancelAsync();
        Assert.Equal(0, await server);
    }

    [Fact]
    public async Task AServerBehindAProxyIsReachedThroughIt()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        var (proxy, proxyOutput, _) = Flowctl.Start(["proxy", "--listen", "tcp/127.0.0.1:0"], stop.Token);
        var proxyEndpoint = Endpoint.Parse(await proxyOutput.WaitForEndpointAsync("proxy listening on ", stop.Token));
        var (server, serverOutput, _) = Flowctl.Start(["serve", "--proxy", proxyEndpoint.ToString()], stop.Token);
        var published = Endpoint.Parse(await serverOutput.WaitForEndpointAsync("listening through the proxy on ", stop.Token));
        Assert.Equal(proxyEndpoint.Address, published.Address);

        var dial = await Flowctl.RunAsync("dial", published.ToString(), "--message", "via the proxy");
        Assert.Equal(0, dial.ExitCode);
        Assert.Contains("via the proxy", dial.Output);
        await stop.CancelAsync();
        Assert.Equal(0, await server);
        Assert.Equal(0, await proxy);
    }

    [Fact]
    public async Task DialSendsRandomBytesChecksTheEchoAndReportsTheRateAsJson()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        var (server, serverOutput, _) = Flowctl.Start(["serve", "--json"], stop.Token);
        var listening = await serverOutput.WaitForLineAsync(l => l.Contains("\"listening\"", StringComparison.Ordinal), stop.Token);
        var endpoint = JsonDocument.Parse(listening).RootElement.GetProperty("endpoint").GetString()!;

        var dial = await Flowctl.RunAsync("dial", endpoint, "--bytes", "1MiB", "--json");
        Assert.Equal(0, dial.ExitCode);
        var result = dial.Json;
        Assert.Equal(1 << 20, result.GetProperty("bytesSent").GetInt64());
        Assert.Equal(1 << 20, result.GetProperty("bytesReceived").GetInt64());
        Assert.True(result.GetProperty("echoMatched").GetBoolean());
        Assert.Equal(JsonValueKind.Number, result.GetProperty("megabytesPerSecond").ValueKind);
        Assert.Equal(JsonValueKind.Number, result.GetProperty("seconds").ValueKind);
        Assert.Equal(["flow-manager"], result.GetProperty("peer").GetProperty("blessings").EnumerateArray().Select(e => e.GetString()));

        // serve --json reports each flow it echoed as one JSON object a line.
        await serverOutput.WaitForLineAsync(l => l.Contains("\"echoed\"", StringComparison.Ordinal), stop.Token);
        var echoed = Flowctl.JsonLines(serverOutput.ToString()).Single(e => e.GetProperty("event").GetString() == "echoed");
        Assert.Equal(1 << 20, echoed.GetProperty("bytes").GetInt64());
        await stop.CancelAsync();
        Assert.Equal(0, await server);
    }

    [Fact]
    public async Task DialSendsAFileAndShowsProgressBarsOnATerminal()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        var (server, serverOutput, _) = Flowctl.Start(["serve"], stop.Token);
        var endpoint = await serverOutput.WaitForEndpointAsync("listening on ", stop.Token);
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(file, System.Security.Cryptography.RandomNumberGenerator.GetBytes(300_000), stop.Token);
            var plain = await Flowctl.RunAsync("dial", endpoint, "--send", file);
            Assert.Equal(0, plain.ExitCode);
            Assert.Contains("echo verified", plain.Output);
            Assert.Contains("MB/s", plain.Output);
            Assert.DoesNotContain("\u001b[", plain.Output); // no progress bar, no colour when not a terminal

            var terminal = await Flowctl.RunAsync(["dial", endpoint, "--send", file], ConsoleKind.ForcedInteractive, stop.Token);
            Assert.Equal(0, terminal.ExitCode);
            Assert.Contains("sent", terminal.Output);
            Assert.Contains("echoed", terminal.Output);
            Assert.Contains("100%", terminal.Output);
            Assert.Contains("echo verified", terminal.Output);
        }
        finally
        {
            File.Delete(file);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await server);
    }

    [Fact]
    public async Task PingReportsRoundTripTimes()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        var (server, serverOutput, _) = Flowctl.Start(["serve"], stop.Token);
        var endpoint = await serverOutput.WaitForEndpointAsync("listening on ", stop.Token);

        var json = await Flowctl.RunAsync("ping", endpoint, "--count", "5", "--size", "100", "--json");
        Assert.Equal(0, json.ExitCode);
        var rtt = json.Json.GetProperty("rtt");
        Assert.Equal(5, rtt.GetProperty("count").GetInt32());
        Assert.Equal(5, rtt.GetProperty("samplesMs").GetArrayLength());
        var (min, p50, max) = (rtt.GetProperty("minMs").GetDouble(), rtt.GetProperty("p50Ms").GetDouble(), rtt.GetProperty("maxMs").GetDouble());
        Assert.True(min <= p50 && p50 <= max, $"{min} {p50} {max}");
        Assert.Equal(100, json.Json.GetProperty("bytes").GetInt32());

        var table = await Flowctl.RunAsync("ping", endpoint, "--count", "3");
        Assert.Equal(0, table.ExitCode);
        foreach (var column in new[] { "count", "min", "avg", "p50", "max" })
        {
            Assert.Contains(column, table.Output);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await server);
    }

    [Fact]
    public async Task ProxyReportsItsEndpointAsJson()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        var (proxy, output, _) = Flowctl.Start(["proxy", "--json"], stop.Token);
        var line = await output.WaitForLineAsync(l => l.StartsWith('{'), stop.Token);
        var listening = JsonDocument.Parse(line).RootElement;
        Assert.Equal("listening", listening.GetProperty("event").GetString());
        Assert.True(Endpoint.TryParse(listening.GetProperty("endpoint").GetString(), out _));
        await stop.CancelAsync();
        Assert.Equal(0, await proxy);
    }

    /// <summary>A server that answers with other bytes than it got: dial reports it and exits with EchoMismatch.</summary>
    [Fact]
    public async Task AnEchoThatDiffersFailsWithItsOwnExitCode()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        await using var liar = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("liar") });
        var listener = await liar.ListenAsync("tcp", "127.0.0.1:0", stop.Token);
        var serving = Task.Run(async () =>
        {
            await using var flow = await liar.AcceptAsync(stop.Token);
            var data = await ReadToEndAsync(flow);
            data[^1] ^= 0xFF;
            await flow.WriteAsync(data, stop.Token);
            await flow.CloseWriteAsync(stop.Token);
        }, stop.Token);

        var dial = await Flowctl.RunAsync("dial", listener.Endpoint.ToString(), "--bytes", "1000", "--json");
        var line = dial.AssertOneLineFailure(ExitCode.EchoMismatch);
        Assert.Contains("byte 999", line);
        Assert.False(dial.Json.GetProperty("echoMatched").GetBoolean());
        Assert.Equal(999, dial.Json.GetProperty("firstDifference").GetInt64());
        await serving;
    }

    /// <summary>
    /// Principals made by the identity verbs serve and dial: a dialer that trusts the server's root and asks for its
    /// blessing gets through; one asking for a blessing the server lacks is refused as NotTrusted.
    /// </summary>
    [Fact]
    public async Task DialChecksThePeersBlessingsWithTheDialersRoots()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        var directory = Directory.CreateTempSubdirectory("flowctl-trust-");
        try
        {
            string In(string name) => Path.Combine(directory.FullName, name);
            Assert.Equal(0, (await Flowctl.RunAsync("principal", "create", In("root"), "--name", "acme")).ExitCode);
            Assert.Equal(0, (await Flowctl.RunAsync("principal", "create", In("server"))).ExitCode);
            Assert.Equal(0, (await Flowctl.RunAsync("bless", In("root"), "--to", In("server"), "--extension", "echo", "--output", In("server.blessings"))).ExitCode);
            Assert.Equal(0, (await Flowctl.RunAsync("principal", "install", In("server"), In("server.blessings"))).ExitCode);
            Assert.Equal(0, (await Flowctl.RunAsync("principal", "create", In("client"), "--name", "client")).ExitCode);
            Assert.Equal(0, (await Flowctl.RunAsync("roots", "add", In("client"), "--key", In("root"), "--pattern", "acme")).ExitCode);

            var (server, serverOutput, _) = Flowctl.Start(["serve", "--principal", In("server")], stop.Token);
            var endpoint = await serverOutput.WaitForEndpointAsync("listening on ", stop.Token);
            Assert.Contains("acme:echo", endpoint);

            var trusted = await Flowctl.RunAsync("dial", endpoint, "--principal", In("client"), "--blessing", "acme:echo", "--message", "hi");
            Assert.Equal(0, trusted.ExitCode);
            Assert.Contains("peer acme:echo", trusted.Output);

            var refused = await Flowctl.RunAsync("dial", endpoint, "--principal", In("client"), "--blessing", "acme:other", "--message", "hi");
            Assert.Contains("acme:other", refused.AssertOneLineFailure(ExitCode.NotTrusted));

            // A principal without blessings cannot dial at all: it is refused before any handshake.
            Assert.Equal(0, (await Flowctl.RunAsync("principal", "create", In("nobody"))).ExitCode);
            var nobody = await Flowctl.RunAsync("dial", endpoint, "--principal", In("nobody"), "--message", "hi");
            Assert.Contains("has no blessings", nobody.AssertOneLineFailure(ExitCode.BadInput));

            // Without the root, the server's blessing is not recognised at all.
            var stranger = await Flowctl.RunAsync("dial", endpoint, "--blessing", "acme:echo", "--message", "hi");
            stranger.AssertOneLineFailure(ExitCode.NotTrusted);
            await stop.CancelAsync();
            Assert.Equal(0, await server);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
