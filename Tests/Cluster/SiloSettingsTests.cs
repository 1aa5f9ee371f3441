using FlowOrleans.Silo;

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
        Assert.Equal((int)SiloExitCode.BadSetting, exitCode);
        Assert.Contains(named, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--Silo:Tls:AllowPlaintext=false", "Silo:Tls:CertificatePath")]
    [InlineData("--Silo:Tls:CertificatePath=/nonexistent/silo.pem", "Silo:Tls:CaCertificatePath")]
    public async Task APostgreSqlSiloWithoutCertificatesDoesNotStart(string setting, string named)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (exitCode, output) = await SiloProcess.RunCommandAsync(
            [$"--Silo:SiloPort={ChildProcesses.FreePort()}", $"--Silo:GatewayPort={ChildProcesses.FreePort()}",
             "--Silo:Storage=PostgreSQL", "--Silo:PostgreSql=Host=127.0.0.1;Port=1;Database=none", setting], cts.Token);
        Assert.Equal((int)SiloExitCode.BadSetting, exitCode);
        Assert.Contains(named, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACertificateFileThatCannotBeReadStopsTheSiloNamingTheSetting()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var (exitCode, output) = await SiloProcess.RunCommandAsync(
            [$"--Silo:SiloPort={ChildProcesses.FreePort()}", $"--Silo:GatewayPort={ChildProcesses.FreePort()}",
             "--Silo:Tls:CertificatePath=/nonexistent/silo.pem", "--Silo:Tls:PrivateKeyPath=/nonexistent/silo.key", "--Silo:Tls:CaCertificatePath=/nonexistent/ca.pem"], cts.Token);
        Assert.Equal((int)SiloExitCode.Certificates, exitCode);
        Assert.Contains("Silo:Tls:CertificatePath", output, StringComparison.Ordinal);
    }
}
