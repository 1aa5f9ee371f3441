using System.Text;
using System.Text.Json;

namespace FlowOrleans.Tests.Deploy;

/// <summary>
/// deploy/k8s, rendered and validated offline (<see cref="RenderedOverlays"/>), against what the Silo reads: the
/// settings in the environment are the Silo's option names with values of the right type, the container ports are
/// the ports those settings open, the probes use the paths the Silo serves, and the pods run non-root.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Process)]
public sealed class KubernetesManifestTests(RenderedOverlays rendered) : IClassFixture<RenderedOverlays>
{
    private static readonly string[] s_secretsTheBaseNeeds = ["flow-orleans-postgres", "flow-orleans-tls", "flow-orleans-principal"];

    public static TheoryData<string> Overlays => new() { "dev", "production" };

    [Fact]
    public void EveryOverlayIsRendered()
    {
        Assert.Equal(["dev", "production"], rendered.Overlays.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void TheOverlayHasEveryObjectTheSilosNeed(string overlay)
    {
        var kinds = rendered.Overlays[overlay].Select(o => o.GetProperty("kind").GetString()).ToArray();
        foreach (var kind in new[] { "ServiceAccount", "ConfigMap", "Deployment", "PodDisruptionBudget", "Service" })
        {
            Assert.Contains(kind, kinds);
        }

        var deployment = Deployment(overlay);
        var serviceAccount = PodSpec(deployment).GetProperty("serviceAccountName").GetString();
        var account = Single(overlay, "ServiceAccount", serviceAccount!);
        Assert.False(account.GetProperty("automountServiceAccountToken").GetBoolean());
        Assert.False(PodSpec(deployment).GetProperty("automountServiceAccountToken").GetBoolean());

        // The PodDisruptionBudget and the Services select exactly the silo pods.
        var podLabels = deployment.GetProperty("spec").GetProperty("template").GetProperty("metadata").GetProperty("labels");
        var selector = deployment.GetProperty("spec").GetProperty("selector").GetProperty("matchLabels");
        Assert.True(IsSubset(selector, podLabels));
        var budget = Of(overlay, "PodDisruptionBudget").Single();
        Assert.Equal(selector.ToString(), budget.GetProperty("spec").GetProperty("selector").GetProperty("matchLabels").ToString());
        Assert.Equal(1, budget.GetProperty("spec").GetProperty("maxUnavailable").GetInt32());
    }

    [Fact]
    public void TheDevOverlayIsSelfContainedAndProductionExpectsItsSecrets()
    {
        Assert.Equal(s_secretsTheBaseNeeds.Order(StringComparer.Ordinal), ReferencedSecrets("production").Order(StringComparer.Ordinal));
        Assert.Empty(Of("production", "Secret"));
        Assert.Empty(Of("production", "StatefulSet"));

        // dev: every Secret the pods use is rendered (named with a content hash by kustomize), and so is PostgreSQL.
        var devSecrets = Of("dev", "Secret").Select(s => Name(s)).ToArray();
        Assert.All(ReferencedSecrets("dev"), name => Assert.Contains(name, devSecrets));
        foreach (var needed in s_secretsTheBaseNeeds)
        {
            Assert.Contains(devSecrets, s => s.StartsWith(needed + "-", StringComparison.Ordinal));
        }

        var postgres = Single("dev", "StatefulSet", "postgres");
        var service = Single("dev", "Service", "postgres");
        var containerPort = postgres.GetProperty("spec").GetProperty("template").GetProperty("spec").GetProperty("containers")[0].GetProperty("ports")[0];
        Assert.Equal(containerPort.GetProperty("name").GetString(), service.GetProperty("spec").GetProperty("ports")[0].GetProperty("targetPort").GetString());

        // The silos' connection string names that Service, its port and the database and user PostgreSQL creates.
        var credentials = Of("dev", "Secret").Single(s => Name(s).StartsWith("flow-orleans-postgres-", StringComparison.Ordinal)).GetProperty("data");
        string Decoded(string key) => Encoding.UTF8.GetString(Convert.FromBase64String(credentials.GetProperty(key).GetString()!));
        var connection = Decoded("connection-string").Split(';').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(Name(service), connection["Host"]);
        Assert.Equal(service.GetProperty("spec").GetProperty("ports")[0].GetProperty("port").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), connection["Port"]);
        Assert.Equal(Decoded("username"), connection["Username"]);
        Assert.Equal(Decoded("password"), connection["Password"]);
        Assert.Equal(Decoded("database"), connection["Database"]);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void EveryEnvironmentVariableIsASettingTheSiloReadsWithAValueOfItsType(string overlay)
    {
        foreach (var container in Containers(Deployment(overlay)))
        {
            foreach (var (name, value) in Environment(overlay, container))
            {
                if (name == "POD_IP")
                {
                    continue; // The downward API's pod IP, which Silo__AdvertisedAddress refers to.
                }

                var setting = SiloSettings.FromEnvironmentName(name);
                var found = SiloSettings.Find(setting);
                Assert.True(found is not null,
                    $"{overlay}: {container.GetProperty("name")} sets {name}, which is no setting the Silo reads ({setting})");
                if (found is { } property && value is not null && !value.StartsWith("$(", StringComparison.Ordinal))
                {
                    Assert.True(SiloSettings.Converts(value, property.ValueType), $"{overlay}: {name}={value} is not a {property.ValueType.Name}");
                }
            }
        }

        var silo = Environment(overlay, SiloContainer(overlay));
        Assert.Equal("PostgreSQL", silo["Silo__Storage"]);
        Assert.Equal("$(POD_IP)", silo["Silo__AdvertisedAddress"]);
        Assert.Null(silo["Silo__PostgreSql"]); // from the Secret, never a literal
        var podIp = EnvironmentEntries(SiloContainer(overlay)).First(e => e.GetProperty("name").GetString() == "POD_IP");
        Assert.Equal("status.podIP", podIp.GetProperty("valueFrom").GetProperty("fieldRef").GetProperty("fieldPath").GetString());

        // The init container prepares the database the silos use: init-db reads Silo__PostgreSql (DatabaseSchema).
        var init = Assert.Single(PodSpec(Deployment(overlay)).GetProperty("initContainers").EnumerateArray());
        Assert.Equal(["init-db"], init.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(SecretKey(SiloContainer(overlay), "Silo__PostgreSql"), SecretKey(init, "Silo__PostgreSql"));
        Assert.Equal("connection-string", SecretKey(init, "Silo__PostgreSql").Key);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void ContainerPortsAreThePortsTheSettingsOpen(string overlay)
    {
        var settings = Environment(overlay, SiloContainer(overlay));
        int Setting(string name) => int.Parse(settings.GetValueOrDefault(name) ?? SiloSettings.Default(SiloSettings.FromEnvironmentName(name))!, System.Globalization.CultureInfo.InvariantCulture);
        var ports = SiloContainer(overlay).GetProperty("ports").EnumerateArray()
            .ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("containerPort").GetInt32());

        Assert.Equal(Setting("Silo__SiloPort"), ports["silo"]);
        Assert.Equal(Setting("Silo__GatewayPort"), ports["gateway"]);
        Assert.Equal(Setting("Silo__HttpPort"), ports["http"]);
        var listen = settings["FlowOrleans__Listen__0"]!;
        Assert.StartsWith("tcp/0.0.0.0:", listen, StringComparison.Ordinal); // every pod address, so the pod IP is published
        Assert.Equal(SiloSettings.ListenPort(listen), ports["flow"]);

        // Every Service of the silos forwards its ports to named container ports, on the same numbers.
        var siloLabels = Deployment(overlay).GetProperty("spec").GetProperty("template").GetProperty("metadata").GetProperty("labels");
        var services = Of(overlay, "Service").Where(s => IsSubset(s.GetProperty("spec").GetProperty("selector"), siloLabels)).ToArray();
        Assert.Equal(3, services.Length);
        foreach (var port in services.SelectMany(s => s.GetProperty("spec").GetProperty("ports").EnumerateArray()))
        {
            var target = port.GetProperty("targetPort").GetString()!;
            Assert.True(ports.ContainsKey(target), $"{overlay}: a Service targets port '{target}', which the silo container does not name");
            Assert.Equal(ports[target], port.GetProperty("port").GetInt32());
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void ProbesUseThePathsTheSiloServesOnItsHttpPort(string overlay)
    {
        var silo = SiloContainer(overlay);
        foreach (var (probe, path) in new[] { ("startupProbe", SiloSettings.LivenessPath), ("livenessProbe", SiloSettings.LivenessPath), ("readinessProbe", SiloSettings.ReadinessPath) })
        {
            var get = silo.GetProperty(probe).GetProperty("httpGet");
            Assert.Equal(path, get.GetProperty("path").GetString());
            Assert.Equal("http", get.GetProperty("port").GetString());
        }

        var spec = Deployment(overlay).GetProperty("spec");
        var rolling = spec.GetProperty("strategy").GetProperty("rollingUpdate");
        Assert.Equal(0, rolling.GetProperty("maxUnavailable").GetInt32());
        Assert.Equal(1, rolling.GetProperty("maxSurge").GetInt32());
        Assert.True(PodSpec(Deployment(overlay)).GetProperty("terminationGracePeriodSeconds").GetInt32() > SiloSettings.ShutdownTimeout.TotalSeconds);
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void ThePrincipalAndCertificatesComeFromSecretsWhereTheSettingsPoint(string overlay)
    {
        var silo = SiloContainer(overlay);
        var settings = Environment(overlay, silo);
        var volumes = PodSpec(Deployment(overlay)).GetProperty("volumes").EnumerateArray().ToDictionary(v => v.GetProperty("name").GetString()!);
        var mounts = silo.GetProperty("volumeMounts").EnumerateArray().ToDictionary(m => m.GetProperty("mountPath").GetString()!);

        JsonElement SecretMountedAt(string directory)
        {
            Assert.True(mounts.TryGetValue(directory, out var mount), $"{overlay}: nothing is mounted at {directory}");
            var volume = volumes[mount.GetProperty("name").GetString()!];
            Assert.True(volume.TryGetProperty("secret", out var secret), $"{overlay}: {directory} is not a Secret volume");
            Assert.True(mount.GetProperty("readOnly").GetBoolean());
            return secret;
        }

        // FlowOrleans:Trust:PrincipalDirectory is a Secret holding what Principal.Save writes, not an emptyDir.
        var principal = SecretMountedAt(settings["FlowOrleans__Trust__PrincipalDirectory"]!);
        Assert.StartsWith("flow-orleans-principal", principal.GetProperty("secretName").GetString(), StringComparison.Ordinal);
        if (overlay == "dev")
        {
            var data = Single("dev", "Secret", principal.GetProperty("secretName").GetString()!).GetProperty("data");
            Assert.Equal(["privatekey.pem", "state.bin"], data.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        }

        // Silo:Tls:* name files of one kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt: what cert-manager writes).
        var tlsFiles = new[] { "Silo__Tls__CertificatePath", "Silo__Tls__PrivateKeyPath", "Silo__Tls__CaCertificatePath" }.Select(n => settings[n]!).ToArray();
        var directory = Assert.Single(tlsFiles.Select(Path.GetDirectoryName).Distinct());
        var tls = SecretMountedAt(directory!);
        Assert.Equal(["tls.crt", "tls.key", "ca.crt"], tlsFiles.Select(Path.GetFileName));
        if (overlay == "dev")
        {
            var secret = Single("dev", "Secret", tls.GetProperty("secretName").GetString()!);
            Assert.Equal("kubernetes.io/tls", secret.GetProperty("type").GetString());
            Assert.All(tlsFiles.Select(Path.GetFileName), file => Assert.True(secret.GetProperty("data").TryGetProperty(file!, out _)));
        }
    }

    [Theory]
    [MemberData(nameof(Overlays))]
    public void TheSilosRunWithMutualTlsAndTrustSettingsNeverOpenToEveryone(string overlay)
    {
        var settings = Environment(overlay, SiloContainer(overlay));
        foreach (var name in new[] { "Silo__Tls__CertificatePath", "Silo__Tls__PrivateKeyPath", "Silo__Tls__CaCertificatePath" })
        {
            Assert.False(string.IsNullOrEmpty(settings.GetValueOrDefault(name)), $"{overlay}: {name} is not set, so the silo would refuse to start without TLS");
        }

        Assert.DoesNotContain("Silo__Tls__AllowPlaintext", settings.Keys);
        Assert.DoesNotContain("FlowOrleans__Trust__AllowEveryone", settings.Keys);
        Assert.Equal("Production", settings["FlowOrleans__Policy__Profile"]);
        Assert.Equal("true", settings["Silo__ListenOnAllAddresses"]); // the pod's own addresses, which kubectl port-forward reaches

        // Peers dialing the silos must present the overlay's root; dials without patterns reach only peers it blessed.
        var accept = Patterns(settings, "FlowOrleans__Trust__AcceptPatterns__");
        var dial = Patterns(settings, "FlowOrleans__Trust__DialPatterns__");
        Assert.NotEmpty(accept);
        Assert.NotEmpty(dial);
        Assert.All(accept.Concat(dial), p => Assert.True(Transport.Security.BlessingPattern.TryParse(p, out _), $"{overlay}: '{p}' is not a blessing pattern"));
        if (overlay != "dev")
        {
            return;
        }

        // dev: the silos' principal (from its Secret) is blessed by the root the patterns name and trusts it, so silos
        // and peers blessed by that root are accepted and dialed.
        var secret = Of("dev", "Secret").Single(s => Name(s).StartsWith("flow-orleans-principal-", StringComparison.Ordinal)).GetProperty("data");
        var directory = Path.Combine(rendered.K8sDirectory, "principal-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        foreach (var file in secret.EnumerateObject())
        {
            File.WriteAllBytes(Path.Combine(directory, file.Name), Convert.FromBase64String(file.Value.GetString()!));
        }

        using var principal = Transport.Security.Principal.Load(directory);
        var valid = Transport.Security.BlessingValidator.Validate(principal.DefaultBlessings, principal.Roots, new Transport.Security.SecurityCall
        {
            Now = DateTimeOffset.UtcNow,
            RemotePublicKey = principal.PublicKey,
        }).AcceptedNames;
        Assert.NotEmpty(valid);
        Assert.All(accept.Concat(dial), p => Assert.True(Transport.Security.BlessingPattern.Parse(p).MatchesAny(valid), $"dev: '{p}' matches none of the principal's valid names [{string.Join(", ", valid)}]"));
    }

    private static string[] Patterns(Dictionary<string, string?> settings, string prefix) =>
        settings.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(e => e.Value!).ToArray();

    [Theory]
    [MemberData(nameof(Overlays))]
    public void PodsRunNonRootWithAReadOnlyRootAndNoCapabilitiesWithinLimits(string overlay)
    {
        foreach (var workload in Of(overlay, "Deployment").Concat(Of(overlay, "StatefulSet")))
        {
            var pod = workload.GetProperty("spec").GetProperty("template").GetProperty("spec");
            var podSecurity = pod.GetProperty("securityContext");
            Assert.True(podSecurity.GetProperty("runAsNonRoot").GetBoolean());
            Assert.NotEqual(0, podSecurity.GetProperty("runAsUser").GetInt32());
            foreach (var container in Containers(workload))
            {
                var what = $"{overlay}: {Name(workload)}/{container.GetProperty("name")}";
                var security = container.GetProperty("securityContext");
                Assert.False(security.GetProperty("allowPrivilegeEscalation").GetBoolean(), what);
                Assert.True(security.GetProperty("readOnlyRootFilesystem").GetBoolean(), what);
                Assert.Equal(["ALL"], security.GetProperty("capabilities").GetProperty("drop").EnumerateArray().Select(c => c.GetString()));
                foreach (var kind in new[] { "requests", "limits" })
                {
                    var resources = container.GetProperty("resources").GetProperty(kind);
                    Assert.True(resources.TryGetProperty("cpu", out _) && resources.TryGetProperty("memory", out _), $"{what} has no {kind}");
                }
            }
        }
    }

    [Fact]
    public async Task TheDockerfilePublishesTheSiloAndRunsItAsTheNonRootUserOfThePods()
    {
        var lines = await File.ReadAllLinesAsync(Path.Combine(RenderedOverlays.RepositoryRoot, "deploy", "Dockerfile"));
        var runtime = lines.SkipWhile(l => !l.StartsWith("FROM", StringComparison.Ordinal)).Skip(1).SkipWhile(l => !l.StartsWith("FROM", StringComparison.Ordinal)).ToArray();
        Assert.Contains(lines, l => l.StartsWith("RUN dotnet publish Silo/Silo.csproj", StringComparison.Ordinal));
        var user = runtime.Single(l => l.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..].Trim();
        Assert.Equal(PodSpec(Deployment("production")).GetProperty("securityContext").GetProperty("runAsUser").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), user);
        Assert.Contains($"\"{SiloSettings.SiloAssemblyFile}\"", runtime.Single(l => l.StartsWith("ENTRYPOINT", StringComparison.Ordinal)));
        var exposed = runtime.Single(l => l.StartsWith("EXPOSE", StringComparison.Ordinal)).Split(' ').Skip(1).Select(int.Parse).ToArray();
        foreach (var port in SiloContainer("production").GetProperty("ports").EnumerateArray())
        {
            Assert.Contains(port.GetProperty("containerPort").GetInt32(), exposed);
        }
    }

    /// <summary>The validator is no formality: a wrong type, a misspelt field and an unknown kind each fail it.</summary>
    [Fact]
    public async Task TheOfflineValidationRefusesBrokenObjects()
    {
        var broken = Path.Combine(rendered.K8sDirectory, "broken.yaml");
        await File.WriteAllTextAsync(broken, """
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: broken }
            spec:
              replicas: three
              selector: { matchLabels: { a: b } }
              template:
                metadata: { labels: { a: b } }
                spec:
                  securityContext: { runAsNonroot: true }
                  containers: [{ name: c, image: i }]
            ---
            apiVersion: example.com/v1
            kind: Gadget
            metadata: { name: gadget }
            """);
        var validator = Path.Combine(RenderedOverlays.RepositoryRoot, ".cache", "k8s-check", "validate.mjs");
        var (exitCode, output) = await RenderedOverlays.RunAsync("node", [validator, broken], [], check: false);
        Assert.Equal(1, exitCode);
        Assert.Contains("Deployment/broken: data/spec/replicas must be integer", output);
        Assert.Contains("Deployment/broken.spec.template.spec.securityContext.runAsNonroot: unknown field", output);
        Assert.Contains("Gadget/gadget: no schema", output);
    }

    private IEnumerable<JsonElement> Of(string overlay, string kind) => rendered.Overlays[overlay].Where(o => o.GetProperty("kind").GetString() == kind);

    private JsonElement Single(string overlay, string kind, string name) => Assert.Single(Of(overlay, kind), o => Name(o) == name);

    private JsonElement Deployment(string overlay) => Single(overlay, "Deployment", "flow-orleans-silo");

    private JsonElement SiloContainer(string overlay) => Containers(Deployment(overlay)).Single(c => c.GetProperty("name").GetString() == "silo");

    private static string Name(JsonElement o) => o.GetProperty("metadata").GetProperty("name").GetString()!;

    private static JsonElement PodSpec(JsonElement workload) => workload.GetProperty("spec").GetProperty("template").GetProperty("spec");

    private static IEnumerable<JsonElement> Containers(JsonElement workload)
    {
        var pod = PodSpec(workload);
        var init = pod.TryGetProperty("initContainers", out var inits) ? inits.EnumerateArray().ToArray() : [];
        return init.Concat(pod.GetProperty("containers").EnumerateArray());
    }

    private static IEnumerable<JsonElement> EnvironmentEntries(JsonElement container) =>
        container.TryGetProperty("env", out var env) ? env.EnumerateArray() : [];

    /// <summary>A container's environment: its env entries (null for values from Secrets or the downward API) and its ConfigMaps.</summary>
    private Dictionary<string, string?> Environment(string overlay, JsonElement container)
    {
        var result = new Dictionary<string, string?>();
        if (container.TryGetProperty("envFrom", out var sources))
        {
            foreach (var source in sources.EnumerateArray())
            {
                var map = Single(overlay, "ConfigMap", source.GetProperty("configMapRef").GetProperty("name").GetString()!);
                foreach (var entry in map.GetProperty("data").EnumerateObject())
                {
                    result[entry.Name] = entry.Value.GetString();
                }
            }
        }

        foreach (var entry in EnvironmentEntries(container))
        {
            result[entry.GetProperty("name").GetString()!] = entry.TryGetProperty("value", out var value) ? value.GetString() : null;
        }

        return result;
    }

    private static (string Secret, string Key) SecretKey(JsonElement container, string name)
    {
        var reference = EnvironmentEntries(container).Single(e => e.GetProperty("name").GetString() == name).GetProperty("valueFrom").GetProperty("secretKeyRef");
        return (reference.GetProperty("name").GetString()!, reference.GetProperty("key").GetString()!);
    }

    /// <summary>Names of the Secrets the silo pods use (volumes and environment).</summary>
    private string[] ReferencedSecrets(string overlay)
    {
        var pod = PodSpec(Deployment(overlay));
        var fromVolumes = pod.GetProperty("volumes").EnumerateArray().Where(v => v.TryGetProperty("secret", out _)).Select(v => v.GetProperty("secret").GetProperty("secretName").GetString()!);
        var fromEnvironment = Containers(Deployment(overlay)).SelectMany(EnvironmentEntries)
            .Where(e => e.TryGetProperty("valueFrom", out var from) && from.TryGetProperty("secretKeyRef", out _))
            .Select(e => e.GetProperty("valueFrom").GetProperty("secretKeyRef").GetProperty("name").GetString()!);
        return fromVolumes.Concat(fromEnvironment).Distinct().ToArray();
    }

    private static bool IsSubset(JsonElement labels, JsonElement of) =>
        labels.EnumerateObject().All(l => of.TryGetProperty(l.Name, out var value) && value.GetString() == l.Value.GetString());
}
