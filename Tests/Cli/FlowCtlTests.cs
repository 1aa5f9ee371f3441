using FlowOrleans.Cli;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;

namespace FlowOrleans.Tests.Cli;

/// <summary>The README's two-program example, in one process: flowctl serve and flowctl dial over real tcp.</summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class FlowCtlTests
{
    [Fact]
    public async Task DialGetsTheEchoFromServe()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var serverOutput = new StringWriter();
        var server = FlowCtl.ServeAsync([new ListenAddress("tcp", "127.0.0.1:0")], serverOutput, stop.Token);
        string? line = null;
        while (line is null && !stop.IsCancellationRequested)
        {
            await Task.Delay(10, stop.Token);
            line = serverOutput.ToString().Split('\n').FirstOrDefault(l => l.StartsWith("listening on ", StringComparison.Ordinal));
        }

        var endpoint = Endpoint.Parse(line!["listening on ".Length..].Trim());
        var clientOutput = new StringWriter();
        Assert.Equal(0, await FlowCtl.DialAsync(endpoint, "hello, flows", clientOutput, stop.Token));
        Assert.Contains("hello, flows", clientOutput.ToString());
        Assert.Contains("flow-manager", clientOutput.ToString());
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => server);
    }

    [Fact]
    public async Task AServerBehindAProxyIsReachedThroughIt()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var proxyOutput = new StringWriter();
        var proxy = FlowCtl.RunAsync(["proxy", "--listen", "tcp/127.0.0.1:0"], proxyOutput, TextWriter.Null, stop.Token);
        var proxyEndpoint = await WaitForEndpointAsync(proxyOutput, "proxy listening on ", stop.Token);
        var serverOutput = new StringWriter();
        var server = FlowCtl.RunAsync(["serve", "--proxy", proxyEndpoint.ToString()], serverOutput, TextWriter.Null, stop.Token);
        var published = await WaitForEndpointAsync(serverOutput, "listening through the proxy on ", stop.Token);
        Assert.Equal(proxyEndpoint.Address, published.Address);

        var clientOutput = new StringWriter();
        Assert.Equal(0, await FlowCtl.RunAsync(["dial", published.ToString(), "--message", "via the proxy"], clientOutput, TextWriter.Null, stop.Token));
        Assert.Contains("via the proxy", clientOutput.ToString());
        await stop.CancelAsync();
        Assert.Equal(0, await server);
        Assert.Equal(0, await proxy);
    }

    private static async Task<Endpoint> WaitForEndpointAsync(StringWriter output, string prefix, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = output.ToString().Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null)
            {
                return Endpoint.Parse(line[prefix.Length..].Trim());
            }

            await Task.Delay(10, cancellationToken);
        }
    }

    [Fact]
    public async Task BadArgumentsPrintUsageAndFail()
    {
        var error = new StringWriter();
        Assert.Equal(2, await FlowCtl.RunAsync(["bogus"], TextWriter.Null, error, CancellationToken.None));
        Assert.Contains("usage", error.ToString());
        Assert.Equal(2, await FlowCtl.RunAsync(["dial", "@7@tcp@x@@"], TextWriter.Null, error, CancellationToken.None));
        Assert.Contains("BadArg", error.ToString());
    }
}
