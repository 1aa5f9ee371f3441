using System.Net;
using System.Net.Sockets;
using FlowOrleans.Silo;
using FlowOrleans.Tests.Cluster;

namespace FlowOrleans.Tests.SiloCommandLine;

/// <summary>
/// The real Silo program, started with each kind of bad setting or argument, ends with one line naming the setting,
/// the value and what is expected, and the exit code of its class (SiloExitCode), never a stack trace or a hang.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class SiloFailureTests
{
    public static TheoryData<string[], int, string[]> BadCommandLines => new()
    {
        { ["--FlowOrleans:Listen:0=nonsense"], (int)SiloExitCode.BadSetting, ["FlowOrleans:Listen:0 'nonsense'", "PROTOCOL/ADDRESS"] },
        { ["--FlowOrleans:Listen:0=pigeon/127.0.0.1:1"], (int)SiloExitCode.BadSetting, ["FlowOrleans:Listen:0 'pigeon/127.0.0.1:1'", "unknown protocol 'pigeon'", "tcp, tcp4"] },
        { ["--FlowOrleans:ListenNameLease=-00:00:05"], (int)SiloExitCode.BadSetting, ["FlowOrleans:ListenNameLease '-00:00:05'", "at least 00:00:01"] },
        { ["--FlowOrleans:FlowLeaseTimeout=-00:01:00"], (int)SiloExitCode.BadSetting, ["FlowOrleans:FlowLeaseTimeout '-00:01:00'", "at least 00:00:01"] },
        { ["--FlowOrleans:ClaimTimeout=soon"], (int)SiloExitCode.BadSetting, ["FlowOrleans:ClaimTimeout 'soon'", "TimeSpan"] },
        { ["--Silo:SiloPort=abc"], (int)SiloExitCode.BadSetting, ["Silo:SiloPort 'abc'", "Int32"] },
        { ["--Silo:GatewayPort=70000"], (int)SiloExitCode.BadSetting, ["Silo:GatewayPort '70000'", "1 to 65535"] },
        { ["--hlep"], (int)SiloExitCode.BadSetting, ["unknown argument '--hlep'", "--Section:Key=value"] },
        { ["echo-server", "tcp:127.0.0.1:1"], (int)SiloExitCode.BadSetting, ["echo-server: ADDRESS 'tcp:127.0.0.1:1'", "PROTOCOL/ADDRESS"] },
        { ["client", "--gateway-port", "abc", "status"], (int)SiloExitCode.BadSetting, ["--gateway-port 'abc'", "1 to 65535"] },
        { ["client", "status", "--Silo:Tls:CertificatePath=client.pem"], (int)SiloExitCode.BadSetting, ["Silo:Tls:CertificatePath 'client.pem'", "Silo:Tls:PrivateKeyPath"] },
        { ["init-db", "extra", "arguments"], (int)SiloExitCode.BadSetting, ["init-db", "'arguments'"] },
    };

    [Theory]
    [MemberData(nameof(BadCommandLines))]
    public async Task ABadSettingOrArgumentIsOneLineAndTheExitCodeOfItsClass(string[] args, int code, string[] mentions)
    {
        // A silo run (settings only) gets free ports unless it is about them, so one that got as far as its port checks would pass them.
        var runsTheSilo = args[0].StartsWith("--", StringComparison.Ordinal) && !args[0].StartsWith("--Silo:", StringComparison.Ordinal);
        var run = await SiloRun.RunAsync([.. args, .. runsTheSilo ? SiloRun.FreePorts() : []]);
        var line = run.AssertOneLineFailure((SiloExitCode)code);
        foreach (var mention in mentions)
        {
            Assert.Contains(mention, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AnUnreachablePostgreSqlEndsQuicklyWithTheStorageCodeAndNoPassword()
    {
        var closed = ChildProcesses.FreePort();
        var run = await SiloRun.RunAsync([
            .. SiloRun.FreePorts(), "--Silo:Storage=PostgreSQL", $"--Silo:PostgreSql=Host=127.0.0.1;Port={closed};Database=flow;Username=flow;Password=secret",
            "--Silo:Tls:AllowPlaintext=true", "--FlowOrleans:Trust:AllowEveryone=true"]);
        var line = run.AssertOneLineFailure(SiloExitCode.StorageUnavailable);
        Assert.Contains($"Silo:PostgreSql 'Host=127.0.0.1;Port={closed};", line, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", line, StringComparison.Ordinal);

        var initDb = await SiloRun.RunAsync("init-db", $"Host=127.0.0.1;Port={closed};Database=flow;Username=flow");
        Assert.Contains($"Port={closed}", initDb.AssertOneLineFailure(SiloExitCode.StorageUnavailable), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PortsSomebodyListensOnStopTheSiloNamingTheSetting()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var silo = await SiloRun.RunAsync($"--Silo:SiloPort={port}", $"--Silo:GatewayPort={ChildProcesses.FreePort()}", $"--Silo:HttpPort={ChildProcesses.FreePort()}");
        Assert.Contains($"Silo:SiloPort '{port}' is in use", silo.AssertOneLineFailure(SiloExitCode.AddressInUse), StringComparison.Ordinal);

        // The HTTP server binds before the silo joins, so its taken port also stops the silo before it joins.
        var http = await SiloRun.RunAsync([.. SiloRun.FreePorts(), $"--Silo:HttpPort={port}"]);
        Assert.Contains($"Silo:HttpPort '{port}' is in use", http.AssertOneLineFailure(SiloExitCode.AddressInUse), StringComparison.Ordinal);

        var echo = await SiloRun.RunAsync("echo-server", $"tcp/127.0.0.1:{port}");
        Assert.Contains($"ADDRESS 'tcp/127.0.0.1:{port}'", echo.AssertOneLineFailure(SiloExitCode.AddressInUse), StringComparison.Ordinal);
    }

    /// <summary>
    /// Orleans binds its ports with SO_REUSEPORT on Linux, so without the silo's own check a second silo on the same
    /// ports would print Ready and listen beside the first: two clusters, clients split between them.
    /// </summary>
    [Fact]
    public async Task ASecondSiloOnTheSamePortsAsARunningOneRefusesToStart()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        var listen = ChildProcesses.FreePort();
        await using var first = await SiloProcess.StartAsync([$"--FlowOrleans:Listen:0=tcp/127.0.0.1:{listen}"], cts.Token);

        var samePort = await SiloRun.RunAsync($"--Silo:SiloPort={first.SiloPort}", $"--Silo:GatewayPort={ChildProcesses.FreePort()}", $"--Silo:HttpPort={ChildProcesses.FreePort()}");
        Assert.Contains($"Silo:SiloPort '{first.SiloPort}' is in use on 127.0.0.1:{first.SiloPort}", samePort.AssertOneLineFailure(SiloExitCode.AddressInUse), StringComparison.Ordinal);

        var sameGateway = await SiloRun.RunAsync($"--Silo:SiloPort={ChildProcesses.FreePort()}", $"--Silo:GatewayPort={first.GatewayPort}", $"--Silo:HttpPort={ChildProcesses.FreePort()}");
        Assert.Contains($"Silo:GatewayPort '{first.GatewayPort}' is in use", sameGateway.AssertOneLineFailure(SiloExitCode.AddressInUse), StringComparison.Ordinal);

        var sameListen = await SiloRun.RunAsync([.. SiloRun.FreePorts(), $"--FlowOrleans:Listen:0=tcp/127.0.0.1:{listen}"]);
        Assert.Contains($"FlowOrleans:Listen:0 'tcp/127.0.0.1:{listen}' is in use", sameListen.AssertOneLineFailure(SiloExitCode.AddressInUse), StringComparison.Ordinal);

        // By host name: checked at what the name resolves to, so Orleans never gets to fail (and log) half way.
        var byName = await SiloRun.RunAsync([.. SiloRun.FreePorts(), $"--FlowOrleans:Listen:0=tcp/localhost:{listen}"]);
        Assert.Contains($"FlowOrleans:Listen:0 'tcp/localhost:{listen}' is in use", byName.AssertOneLineFailure(SiloExitCode.AddressInUse), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("echo-server", "--help")]
    [InlineData("init-db", "--help")]
    [InlineData("client", "--help")]
    [InlineData("client", "dial", "--help")]
    public async Task EveryCommandHasHelpWithTheExitCodes(params string[] args)
    {
        var run = await SiloRun.RunAsync(args);
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("Usage:", run.Output, StringComparison.Ordinal);
        Assert.Contains("3    address in use", run.Output, StringComparison.Ordinal);
        Assert.Equal("", run.Error);
    }
}
