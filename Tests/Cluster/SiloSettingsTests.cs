namespace FlowOrleans.Tests.Cluster;

/// <summary>The Silo program refuses to start on a bad setting and says which one, for its own and the transport's settings.</summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class SiloSettingsTests
{
    [Theory]
    [InlineData("--Silo:AdvertisedAddress=not-an-address", "AdvertisedAddress")]
    [InlineData("--Silo:GatewayPort=0", "GatewayPort")]
    [InlineData("--Silo:Storage=PostgreSQL", "Silo:PostgreSql")]
    [InlineData("--FlowOrleans:Transport:Connection:Mtu=10", "Mtu")]
    [InlineData("--FlowOrleans:Listen:0=no-slash", "no-slash")]
    public async Task TheSiloExitsNamingTheBadSetting(string setting, string named)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (exitCode, output) = await SiloProcess.RunCommandAsync(
            [$"--Silo:SiloPort={ChildProcesses.FreePort()}", $"--Silo:GatewayPort={ChildProcesses.FreePort()}", setting], cts.Token);
        Assert.Equal(1, exitCode);
        Assert.Contains(named, output, StringComparison.Ordinal);
    }
}
