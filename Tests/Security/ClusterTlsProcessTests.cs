using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces.Security;
using FlowOrleans.Tests.Cli;
using FlowOrleans.Tests.Cluster;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Orleans.Connections.Security;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Security;

/// <summary>
/// The Silo program in its own process with mutual TLS from certificate files this test issues: a client with a
/// certificate from the cluster's authority does what the README walkthrough does; a client without TLS, one with no
/// certificate and one with a certificate from another authority never get past the gateway.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class ClusterTlsProcessTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(240);

    [Fact]
    public async Task AClientWithACertificateOfTheClustersAuthorityWorksAndOthersAreRefusedAtTheGateway()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        using var certificates = TestCertificates.Create();
        await using var silo = await SiloProcess.StartAsync(certificates.SiloSettings(certificates.Silo), ct);
        Assert.Contains(silo.Banner, l => l.StartsWith("Cluster connections: mutual TLS as CN=silo", StringComparison.Ordinal));

        using var clientTls = certificates.Load(certificates.Client);
        await using (var client = await ProcessClient.ConnectAsync(silo.GatewayPort, silo.ClusterId, ct, clientTls))
        {
            await ClientWalkthrough.RunAsync(client.Flows, silo, ct);
        }

        // flowctl's cluster verbs with the client's certificate; without one, the gateway lets it in nowhere.
        string[] gateway = ["--gateway", $"127.0.0.1:{silo.GatewayPort}", "--cluster-id", silo.ClusterId];
        var status = await Flowctl.RunAsync(
            ["cluster", "status", "--json", .. gateway, "--tls-certificate", certificates.Client.Certificate, "--tls-key", certificates.Client.Key, "--tls-ca", certificates.CaCertificatePath],
            ConsoleKind.Plain, ct);
        Assert.True(status.ExitCode == 0, status.Error);
        Assert.Equal(silo.Endpoints, Assert.Single(status.Json.GetProperty("silos").EnumerateArray()).GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()));
        var plain = await Flowctl.RunAsync(["cluster", "status", .. gateway, "--connect-timeout", "10s"], ConsoleKind.Plain, ct);
        Assert.Contains("--tls-certificate", plain.AssertOneLineFailure(ExitCode.ClusterUnavailable));

        // The issue's outsider: a plain Orleans client. It never gets as far as starting (its start waits for the
        // cluster's manifest, which never comes); given 15 s, it has not started, and nothing it could call ran.
        using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            attempt.CancelAfter(TimeSpan.FromSeconds(15));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ProcessClient.ConnectAsync(silo.GatewayPort, silo.ClusterId, attempt.Token));
        }

        // The TLS handshake itself, as any client would run it: no certificate, or one from another authority, is refused.
        using var rogue = X509Certificate2.CreateFromPemFile(certificates.RogueClient.Certificate, certificates.RogueClient.Key);
        await AssertHandshakeRefusedAsync(silo.GatewayPort, null, clientTls, ct);
        await AssertHandshakeRefusedAsync(silo.GatewayPort, rogue, clientTls, ct);
        await AssertHandshakeRefusedAsync(silo.SiloPort, null, clientTls, ct);
        await AssertHandshakeRefusedAsync(silo.SiloPort, clientTls.Certificate, clientTls, ct); // a client certificate is not a silo's
        Assert.True(await HandshakeAcceptedAsync(silo.GatewayPort, clientTls.Certificate, clientTls, ct));
    }

    [Fact]
    public void CertificatesAreTrustedOnlyFromTheClustersAuthorityAndOnlyForTheirRole()
    {
        using var certificates = TestCertificates.Create();
        using var silo = certificates.Load(certificates.Silo);
        using var client = X509Certificate2.CreateFromPem(File.ReadAllText(certificates.Client.Certificate));
        using var rogueSilo = X509Certificate2.CreateFromPem(File.ReadAllText(certificates.RogueSilo.Certificate));
        Assert.True(silo.IsTrusted(silo.Certificate, null, ClusterCertificates.ServerAuthentication));
        Assert.True(silo.IsTrusted(silo.Certificate, null, ClusterCertificates.ClientAuthentication));
        Assert.True(silo.IsTrusted(client, null, ClusterCertificates.ClientAuthentication));
        Assert.False(silo.IsTrusted(client, null, ClusterCertificates.ServerAuthentication)); // a client cannot join as a silo
        Assert.False(silo.IsTrusted(rogueSilo, null, ClusterCertificates.ServerAuthentication));
        Assert.False(silo.IsTrusted(rogueSilo, null, ClusterCertificates.ClientAuthentication));
    }

    [Fact]
    public async Task TheDevelopmentDefaultBindsLoopbackOnlyAndSaysSoWithItsWarnings()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        await using var silo = await SiloProcess.StartAsync(cts.Token);
        Assert.Contains(silo.Banner, l => l.StartsWith("DEVELOPMENT MODE", StringComparison.Ordinal));
        Assert.Contains(silo.Banner, l => l.Contains($"127.0.0.1:{silo.GatewayPort} (this machine only)", StringComparison.Ordinal));
        Assert.Contains(silo.Banner, l => l.StartsWith("Cluster connections: plaintext", StringComparison.Ordinal));
        Assert.Contains(silo.Banner, l => l.StartsWith("WARNING: FlowOrleans:Trust:AllowEveryone", StringComparison.Ordinal));
        Assert.Contains(silo.Banner, l => l.StartsWith("Development policy", StringComparison.Ordinal));

        // What the kernel says the process listens on: both Orleans ports, on loopback and nothing else.
        Assert.Equal(["127.0.0.1"], ListeningAddresses(silo.Pid, silo.GatewayPort));
        Assert.Equal(["127.0.0.1"], ListeningAddresses(silo.Pid, silo.SiloPort));
    }

    [Fact]
    public async Task AnIssuedPrincipalFromADirectoryIsTheSilosIdentityAfterEveryRestart()
    {
        using var cts = new CancellationTokenSource(TestTimeout);
        var ct = cts.Token;
        var root = Path.Combine(Path.GetTempPath(), "flow-root-" + Guid.NewGuid().ToString("N")[..8]);
        var siloDirectory = Path.Combine(Path.GetTempPath(), "flow-silo-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            // Issued as an operator does (docs/security.md): a root, a silo principal it blesses, which trusts the root.
            var blessings = siloDirectory + ".blessings";
            foreach (var command in new[]
            {
                new[] { "principal", "create", root, "--name", "acme" },
                ["principal", "create", siloDirectory],
                ["bless", root, "--to", siloDirectory, "--extension", "silo", "--expires", "1d", "--output", blessings],
                ["principal", "install", siloDirectory, blessings],
                ["roots", "add", siloDirectory, "--blessings", blessings],
            })
            {
                var issued = await Flowctl.RunAsync(command);
                Assert.True(issued.ExitCode == 0, $"flowctl {string.Join(' ', command)}: {issued.Error}");
            }

            using var peerPrincipal = Principal.Load(root);
            await using var peer = new FlowManager(new FlowManagerOptions { Principal = peerPrincipal });
            string[] settings =
            [
                $"--FlowOrleans:Trust:PrincipalDirectory={siloDirectory}", "--FlowOrleans:Trust:AcceptPatterns:0=acme",
                "--FlowOrleans:Trust:DialPatterns:0=acme",
            ];
            string? key = null;
            for (var start = 0; start < 2; start++)
            {
                await using var silo = await SiloProcess.StartAsync(settings, ct);
                Assert.DoesNotContain(silo.Banner, l => l.Contains("AllowEveryone", StringComparison.Ordinal));

                // The root dials the silo requiring acme:silo: the handshake proves the key the directory holds.
                var endpoint = Transport.Endpoints.Endpoint.Parse(Assert.Single(silo.Endpoints));
                Assert.Contains("acme:silo", endpoint.BlessingNames);
                await using var flow = await peer.DialAsync(endpoint, PeerAuthorizers.RequireBlessings(peer.Principal, "acme:silo"), cancellationToken: ct);
                var seen = Convert.ToBase64String(flow.RemoteBlessings.PublicKey!.Bytes.Span);
                Assert.Equal(key ?? seen, seen);
                key = seen;
            }

            Assert.Equal(key, (await Flowctl.RunAsync("principal", "show", siloDirectory, "--json")).Json.GetProperty("publicKey").GetString());
        }
        finally
        {
            foreach (var directory in new[] { root, siloDirectory }.Where(Directory.Exists))
            {
                Directory.Delete(directory, recursive: true);
            }

            File.Delete(siloDirectory + ".blessings");
        }
    }

    private static async Task AssertHandshakeRefusedAsync(int port, X509Certificate2? certificate, ClusterCertificates trust, CancellationToken ct) =>
        Assert.False(await HandshakeAcceptedAsync(port, certificate, trust, ct), $"port {port} accepted {certificate?.Subject ?? "no certificate"}");

    /// <summary>
    /// Runs a TLS client handshake on <paramref name="port"/> presenting <paramref name="certificate"/>, then waits for the
    /// server's verdict: with TLS 1.3 a refused client certificate arrives as an alert after the client's side finished,
    /// at once. True when the server instead keeps the connection, waiting (as a silo does) for the peer's Orleans preamble.
    /// </summary>
    private static async Task<bool> HandshakeAcceptedAsync(int port, X509Certificate2? certificate, ClusterCertificates trust, CancellationToken ct)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(System.Net.IPAddress.Loopback, port, ct);
        await using var tls = new System.Net.Security.SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(new System.Net.Security.SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ClientCertificates = certificate is null ? null : [certificate],
                RemoteCertificateValidationCallback = (_, server, chain, _) =>
                    server is X509Certificate2 silo && trust.IsTrusted(silo, chain, ClusterCertificates.ServerAuthentication),
            }, ct);

            var buffer = new byte[1];
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(TimeSpan.FromSeconds(20));
            return await tls.ReadAsync(buffer, wait.Token) > 0;
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            // Connected, TLS up, and the server waits for more: it accepted the certificate.
            return true;
        }
    }

    /// <summary>
    /// The addresses the process <paramref name="pid"/> listens on at <paramref name="port"/>, from /proc/net/tcp and tcp6:
    /// only its own sockets, since another test may listen on the same port number at another address (the chaos test's
    /// bridge did).
    /// </summary>
    private static IReadOnlyList<string> ListeningAddresses(int pid, int port)
    {
        const string Listen = "0A";
        var owned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
        {
            if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
            {
                owned.Add(target["socket:[".Length..^1]);
            }
        }

        var addresses = new List<string>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" }.Where(File.Exists))
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var local = fields[1].Split(':');
                if (fields[3] == Listen && owned.Contains(fields[9]) && int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                {
                    var bytes = Convert.FromHexString(local[0]);
                    if (bytes.Length == 4)
                    {
                        Array.Reverse(bytes);
                    }
                    else
                    {
                        // /proc prints IPv6 addresses as four little-endian 32-bit words.
                        for (var i = 0; i < 16; i += 4)
                        {
                            Array.Reverse(bytes, i, 4);
                        }
                    }

                    addresses.Add(new System.Net.IPAddress(bytes).ToString());
                }
            }
        }

        return addresses.Distinct().ToArray();
    }
}
