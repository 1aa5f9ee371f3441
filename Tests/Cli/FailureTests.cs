using System.CommandLine;
using FlowOrleans.Cli;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport.Manager;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Cli;

/// <summary>
/// Every failure ends with one line naming the argument, the value and what is expected, and the exit code of its
/// class, never a stack trace. Classes covered elsewhere: NotTrusted (FlowCtlTests), EchoMismatch (FlowCtlTests),
/// BadInput (IdentityVerbTests), ClusterUnavailable and Refused (ClusterVerbTests).
/// </summary>
[Trait(TestKinds.Name, TestKinds.Socket)]
public sealed class FailureTests
{
    public static TheoryData<string[], string[]> BadCommandLines => new()
    {
        { ["bogus"], ["'bogus'", "serve, dial"] },
        { ["dial"], ["missing ENDPOINT", "flowctl dial ENDPOINT"] },
        { ["dial", "@7@tcp@x@@"], ["ENDPOINT '@7@tcp@x@@'", "expected an endpoint"] },
        { ["dial", "@6@nope@127.0.0.1:1@@00000000000000000000000000000000@m@@@"], ["ENDPOINT '@6@nope", "protocol of tcp"] },
        { ["dial", "127.0.0.1:1", "--bytes", "abc"], ["--bytes 'abc'", "byte count"] },
        { ["dial", "127.0.0.1:1", "--bytes", "1", "--message", "x"], ["--message and --bytes", "one of --message, --send or --bytes"] },
        { ["dial", "127.0.0.1:1", "--blessing", "a:...:b"], ["--blessing 'a:...:b'", "blessing pattern"] },
        { ["ping", "127.0.0.1:1", "--count", "0"], ["--count '0'", "from 1 to"] },
        { ["serve", "--listen", "tcp:127.0.0.1:1"], ["--listen 'tcp:127.0.0.1:1'", "PROTOCOL/ADDRESS"] },
        { ["serve", "--listen", "carrier-pigeon/coop"], ["--listen 'carrier-pigeon/coop'", "tcp, tcp4"] },
        { ["serve", "--listen"], ["--listen needs a value", "PROTOCOL/ADDRESS"] },
        { ["principal"], ["'principal' needs a verb", "create, show, install"] },
        { ["cluster", "status", "--gateway", "localhost"], ["--gateway 'localhost'", "HOST:PORT"] },
        { ["cluster", "status", "--gateway", "127.0.0.1:70000"], ["--gateway '127.0.0.1:70000'", "1 to 65535"] },
        { ["cluster", "status", "--connect-timeout", "soon"], ["--connect-timeout 'soon'", "duration"] },
        { ["cluster", "pin", "name"], ["missing ENDPOINT"] },
        { ["cluster", "dial", "127.0.0.1:1", "--unknown"], ["unknown argument '--unknown'"] },
        { ["cluster", "dial", "127.0.0.1:1", "--blessing", "a:...:b"], ["--blessing 'a:...:b'", "blessing pattern"] },
        { ["cluster", "status", "--tls-certificate", "client.pem"], ["--tls-certificate, --tls-key and --tls-ca go together"] },
        { ["bless", "dir", "--extension", "x"], ["--to"] },
    };

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public async Task ABadCommandLineIsOneLineAndExitCode2(string[] args, string[] mentions)
    {
        var result = await Flowctl.RunAsync(args);
        var line = result.AssertOneLineFailure(ExitCode.BadArgument);
        foreach (var mention in mentions)
        {
            Assert.Contains(mention, line);
        }

        Assert.Contains("--help", line);
        Assert.Equal("", result.Output);
    }

    [Fact]
    public async Task AnEndpointNobodyListensOnIsUnreachable()
    {
        var port = ChildProcesses.FreePort();
        var dial = await Flowctl.RunAsync("dial", $"127.0.0.1:{port}", "--message", "x");
        Assert.Contains($"127.0.0.1:{port}", dial.AssertOneLineFailure(ExitCode.Unreachable));
    }

    [Fact]
    public async Task AListenAddressInUseIsUnreachableAndNamesTheSetting()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        var (server, output, _) = Flowctl.Start(["serve", "--listen", "tcp/127.0.0.1:0"], stop.Token);
        var address = Transport.Endpoints.Endpoint.Parse(await output.WaitForEndpointAsync("listening on ", stop.Token)).Address;
        var second = await Flowctl.RunAsync("serve", "--listen", $"tcp/{address}");
        Assert.Contains($"--listen 'tcp/{address}'", second.AssertOneLineFailure(ExitCode.Unreachable));
        await stop.CancelAsync();
        Assert.Equal(0, await server);
    }

    [Fact]
    public async Task MissingTlsFilesAndAnOwnerFileWithoutACapabilityAreBadInput()
    {
        var tls = await Flowctl.RunAsync("cluster", "status", "--tls-certificate", "/nonexistent/client.pem", "--tls-key", "/nonexistent/client.key", "--tls-ca", "/nonexistent/ca.pem");
        Assert.Contains("--tls-certificate '/nonexistent/client.pem' is not a readable file", tls.AssertOneLineFailure(ExitCode.BadInput));

        var owner = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(owner, "not a capability");
            var unpin = await Flowctl.RunAsync("cluster", "unpin", "x", "--owner", owner);
            Assert.Contains($"--owner '{owner}' does not hold an owner capability", unpin.AssertOneLineFailure(ExitCode.BadInput));
        }
        finally
        {
            File.Delete(owner);
        }
    }

    [Fact]
    public async Task AMissingFileToSendIsBadInput()
    {
        var dial = await Flowctl.RunAsync("dial", "127.0.0.1:1", "--send", "/nonexistent/file");
        Assert.Contains("--send '/nonexistent/file'", dial.AssertOneLineFailure(ExitCode.BadInput));
    }

    /// <summary>Ctrl+C during a dial (here: its cancellation) ends it with 130 and nothing on stderr.</summary>
    [Fact]
    public async Task AnInterruptedDialExitsWith130()
    {
        using var stop = new CancellationTokenSource(Flowctl.Timeout);
        await using var silent = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal("silent") });
        var listener = await silent.ListenAsync("tcp", "127.0.0.1:0", stop.Token);
        using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        var dial = Flowctl.RunAsync(["dial", listener.Endpoint.ToString(), "--message", "anyone?"], ConsoleKind.Plain, interrupt.Token);

        // The peer accepts the flow and never answers; the dial waits for the reply until it is interrupted.
        await using var accepted = await silent.AcceptAsync(stop.Token);
        await interrupt.CancelAsync();
        var result = await dial;
        Assert.Equal((int)ExitCode.Interrupted, result.ExitCode);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public async Task EveryVerbHasHelpWithTheExitCodes()
    {
        var commands = new List<string[]>();
        void Collect(Command command, string[] path)
        {
            commands.Add(path);
            foreach (var sub in command.Subcommands)
            {
                Collect(sub, [.. path, sub.Name]);
            }
        }

        Collect(FlowCtl.CreateRoot(new CliApp(ConsoleKind.Plain)), []);
        Assert.True(commands.Count >= 17, string.Join("; ", commands.Select(c => string.Join(' ', c))));
        foreach (var path in commands)
        {
            var help = await Flowctl.RunAsync([.. path, "--help"]);
            Assert.Equal(0, help.ExitCode);
            Assert.Contains("Usage:", help.Output);
            Assert.Contains("Exit codes", help.Output);
            Assert.Contains("130  interrupted", help.Output);
            Assert.Equal("", help.Error);
        }
    }
}
