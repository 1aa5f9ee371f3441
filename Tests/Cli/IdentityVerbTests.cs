using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Cli;

/// <summary>
/// principal create|show|install, bless and roots add|list, checked through their JSON output and by loading what
/// they wrote with <see cref="Principal.Load"/>, the way a silo loads FlowOrleans:Trust:PrincipalDirectory.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class IdentityVerbTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("flowctl-identity-");

    private string In(string name) => Path.Combine(_directory.FullName, name);

    [Fact]
    public async Task ARootBlessesASiloWhichInstallsTheBlessingsAndTrustsTheRoot()
    {
        var root = await Flowctl.RunAsync("principal", "create", In("root"), "--name", "acme", "--json");
        Assert.Equal(0, root.ExitCode);
        Assert.Equal("acme", root.Json.GetProperty("blessings")[0].GetProperty("name").GetString());
        Assert.Equal(1, root.Json.GetProperty("roots").GetInt32()); // a named principal is the root of its own name
        var rootFingerprint = root.Json.GetProperty("fingerprint").GetString();

        var silo = await Flowctl.RunAsync("principal", "create", In("silo"), "--json");
        Assert.Equal(0, silo.ExitCode);
        Assert.Equal(0, silo.Json.GetProperty("blessings").GetArrayLength());

        var publicKey = await Flowctl.RunAsync("principal", "show", In("silo"), "--public-key");
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", publicKey.Output, StringComparison.Ordinal);
        await File.WriteAllTextAsync(In("silo.pub"), publicKey.Output);

        var bless = await Flowctl.RunAsync("bless", In("root"), "--to", In("silo.pub"), "--extension", "silo", "--expires", "1h", "--output", In("silo.blessings"), "--json");
        Assert.Equal(0, bless.ExitCode);
        Assert.Equal(["acme:silo"], bless.Json.GetProperty("names").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(silo.Json.GetProperty("fingerprint").GetString(), bless.Json.GetProperty("recipient").GetString());
        Assert.Contains("BEGIN FLOWORLEANS BLESSINGS", await File.ReadAllTextAsync(In("silo.blessings")));

        Assert.Equal(0, (await Flowctl.RunAsync("principal", "install", In("silo"), In("silo.blessings"))).ExitCode);
        var roots = await Flowctl.RunAsync("roots", "add", In("silo"), "--blessings", In("silo.blessings"), "--json");
        Assert.Equal(0, roots.ExitCode);
        var root0 = Assert.Single(roots.Json.GetProperty("roots").EnumerateArray());
        Assert.Equal(rootFingerprint, root0.GetProperty("fingerprint").GetString());
        Assert.Equal("acme", root0.GetProperty("pattern").GetString());

        var shown = await Flowctl.RunAsync("principal", "show", In("silo"), "--json");
        var blessing = Assert.Single(shown.Json.GetProperty("blessings").EnumerateArray());
        Assert.Equal("acme:silo", blessing.GetProperty("name").GetString());
        Assert.Equal(rootFingerprint, blessing.GetProperty("root").GetString());
        Assert.StartsWith("Expiry(", Assert.Single(blessing.GetProperty("caveats").EnumerateArray()).GetString(), StringComparison.Ordinal);

        // What a silo loads from the directory: the installed blessings, bound to its key, and the trusted root.
        using var loaded = Principal.Load(In("silo"));
        Assert.Equal(["acme:silo"], loaded.DefaultBlessings.Names);
        var rootKey = loaded.DefaultBlessings.Chains[0][0].PublicKey;
        Assert.True(loaded.Roots.IsRecognized(rootKey, "acme:silo"));
        Assert.False(loaded.Roots.IsRecognized(rootKey, "other"));

        var listed = await Flowctl.RunAsync("roots", "list", In("silo"));
        Assert.Equal(0, listed.ExitCode);
        Assert.Contains(rootFingerprint!, listed.Output);
        Assert.Contains("trusted roots", listed.Output);
    }

    [Fact]
    public async Task RootsAddTakesAKeyAndAPattern()
    {
        Assert.Equal(0, (await Flowctl.RunAsync("principal", "create", In("a"))).ExitCode);
        Assert.Equal(0, (await Flowctl.RunAsync("principal", "create", In("b"), "--name", "bob")).ExitCode);
        var publicKey = (await Flowctl.RunAsync("principal", "show", In("b"), "--json")).Json.GetProperty("publicKey").GetString()!;

        // The key as base64 on the command line, as principal show --json prints it.
        var added = await Flowctl.RunAsync("roots", "add", In("a"), "--key", publicKey, "--pattern", "bob:$", "--json");
        Assert.Equal(0, added.ExitCode);
        Assert.Equal("bob:$", Assert.Single(added.Json.GetProperty("roots").EnumerateArray()).GetProperty("pattern").GetString());
        using var a = Principal.Load(In("a"));
        using var b = Principal.Load(In("b"));
        Assert.True(a.Roots.IsRecognized(b.PublicKey, "bob"));
        Assert.False(a.Roots.IsRecognized(b.PublicKey, "bob:x"));
    }

    [Fact]
    public async Task InstallReplacesOrAddsToTheBlessings()
    {
        await Flowctl.RunAsync("principal", "create", In("r1"), "--name", "one");
        await Flowctl.RunAsync("principal", "create", In("r2"), "--name", "two");
        await Flowctl.RunAsync("principal", "create", In("p"));
        await Flowctl.RunAsync("bless", In("r1"), "--to", In("p"), "--extension", "p", "--output", In("1.blessings"));
        await Flowctl.RunAsync("bless", In("r2"), "--to", In("p"), "--extension", "p", "--output", In("2.blessings"));
        Assert.Equal(0, (await Flowctl.RunAsync("principal", "install", In("p"), In("1.blessings"))).ExitCode);
        Assert.Equal(0, (await Flowctl.RunAsync("principal", "install", In("p"), In("2.blessings"))).ExitCode);
        using (var both = Principal.Load(In("p")))
        {
            Assert.Equal(["one:p", "two:p"], both.DefaultBlessings.Names.Order(StringComparer.Ordinal));
        }

        Assert.Equal(0, (await Flowctl.RunAsync("principal", "install", In("p"), In("2.blessings"), "--replace")).ExitCode);
        using var replaced = Principal.Load(In("p"));
        Assert.Equal(["two:p"], replaced.DefaultBlessings.Names);
    }

    [Fact]
    public async Task BlessWithoutOutputPrintsTheBlessings()
    {
        await Flowctl.RunAsync("principal", "create", In("root"), "--name", "acme");
        await Flowctl.RunAsync("principal", "create", In("p"));
        var bless = await Flowctl.RunAsync("bless", In("root"), "--to", In("p"), "--extension", "p");
        Assert.Equal(0, bless.ExitCode);
        await File.WriteAllTextAsync(In("p.blessings"), bless.Output);
        Assert.Equal(0, (await Flowctl.RunAsync("principal", "install", In("p"), In("p.blessings"))).ExitCode);
    }

    [Fact]
    public async Task BadIdentityInputsFailWithOneLineEach()
    {
        await Flowctl.RunAsync("principal", "create", In("root"), "--name", "acme");
        await Flowctl.RunAsync("principal", "create", In("plain"));
        await Flowctl.RunAsync("principal", "create", In("other"));
        await Flowctl.RunAsync("bless", In("root"), "--to", In("other"), "--extension", "x", "--output", In("other.blessings"));

        Assert.Contains("already exists", (await Flowctl.RunAsync("principal", "create", In("root"))).AssertOneLineFailure(ExitCode.BadInput));
        Assert.Contains(In("missing"), (await Flowctl.RunAsync("principal", "show", In("missing"))).AssertOneLineFailure(ExitCode.BadInput));
        Assert.Contains("not this principal's key", (await Flowctl.RunAsync("principal", "install", In("plain"), In("other.blessings"))).AssertOneLineFailure(ExitCode.BadInput));
        Assert.Contains("no blessings to extend", (await Flowctl.RunAsync("bless", In("plain"), "--to", In("other"), "--extension", "x")).AssertOneLineFailure(ExitCode.BadInput));
        Assert.Contains("--to 'garbage'", (await Flowctl.RunAsync("bless", In("root"), "--to", "garbage", "--extension", "x")).AssertOneLineFailure(ExitCode.BadArgument));
        Assert.Contains("--expires '2000-01-01T00:00:00Z'", (await Flowctl.RunAsync("bless", In("root"), "--to", In("other"), "--extension", "x", "--expires", "2000-01-01T00:00:00Z")).AssertOneLineFailure(ExitCode.BadArgument));
        Assert.Contains("--pattern 'a:...'", (await Flowctl.RunAsync("roots", "add", In("plain"), "--key", In("root"), "--pattern", "a:...")).AssertOneLineFailure(ExitCode.BadArgument));

        // A tampered principal is refused, not half-loaded.
        var state = In("plain/state.bin");
        var bytes = await File.ReadAllBytesAsync(state);
        bytes[^1] ^= 1;
        await File.WriteAllBytesAsync(state, bytes);
        Assert.Contains("not a usable principal", (await Flowctl.RunAsync("principal", "show", In("plain"))).AssertOneLineFailure(ExitCode.BadInput));
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
