using FlowOrleans.Transport;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Tests.Security;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class PrincipalPersistenceTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flow-principal-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void SaveThenLoadKeepsKeyRootsAndDefaultBlessings()
    {
        using var world = new SecurityTestWorld();
        world.Alice.Roots.AddRootsOf(world.RootBlessings);
        world.Alice.Roots.Add(world.Phone.PublicKey, BlessingPattern.Parse("devices:$"));
        world.Alice.Save(_directory);

        using var loaded = Principal.Load(_directory);

        Assert.Equal(world.Alice.PublicKey, loaded.PublicKey);
        Assert.Equal(world.AliceBlessings, loaded.DefaultBlessings);
        Assert.True(loaded.Roots.IsRecognized(world.Root.PublicKey, "root:bob"));
        Assert.True(loaded.Roots.IsRecognized(world.Phone.PublicKey, "devices"));
        Assert.False(loaded.Roots.IsRecognized(world.Phone.PublicKey, "devices:x"));
        Assert.Equal(Describe(world.Alice.Roots), Describe(loaded.Roots));

        var signature = loaded.Sign("p", "m"u8);
        Assert.True(world.Alice.PublicKey.Verify("p", "m"u8, signature));

        // The loaded key can still extend the saved blessings.
        var phone = loaded.Bless(world.Phone.PublicKey, loaded.DefaultBlessings, "phone", Caveat.Unconstrained);
        Assert.Equal(["root:alice:phone"], world.ValidateWire(phone, SecurityTestWorld.Call()).AcceptedNames);
    }

    [Fact]
    public void PrivateKeyIsPkcs8PemReadableOnlyByTheOwner()
    {
        using var principal = Principal.CreateInMemory();
        principal.Save(_directory);
        principal.Save(_directory);

        var keyFile = Path.Combine(_directory, "privatekey.pem");
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(keyFile), StringComparison.Ordinal);
        Assert.Equal(["privatekey.pem", "state.bin"], Directory.GetFiles(_directory).Select(f => Path.GetFileName(f)!).Order().ToArray());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }
    }

    [Fact]
    public void LoadOrCreateCreatesOnceThenLoads()
    {
        PublicKey created;
        using (var first = Principal.LoadOrCreate(_directory))
        {
            created = first.PublicKey;
            Assert.True(first.DefaultBlessings.IsEmpty);
        }

        using var second = Principal.LoadOrCreate(_directory);
        Assert.Equal(created, second.PublicKey);
    }

    [Fact]
    public void TamperedStateIsRefused()
    {
        using var world = new SecurityTestWorld();
        world.Alice.Roots.AddRootsOf(world.RootBlessings);
        world.Alice.Save(_directory);
        var stateFile = Path.Combine(_directory, "state.bin");
        var state = File.ReadAllBytes(stateFile);
        state[state.Length / 2] ^= 0x01;
        File.WriteAllBytes(stateFile, state);

        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Principal.Load(_directory)).Code);
    }

    [Fact]
    public void StateFromAnotherPrincipalIsRefused()
    {
        using var alice = Principal.CreateInMemory();
        using var bob = Principal.CreateInMemory();
        var bobDirectory = _directory + "-bob";
        alice.Save(_directory);
        bob.Save(bobDirectory);
        try
        {
            File.Copy(Path.Combine(bobDirectory, "state.bin"), Path.Combine(_directory, "state.bin"), overwrite: true);

            Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Principal.Load(_directory)).Code);
        }
        finally
        {
            Directory.Delete(bobDirectory, recursive: true);
        }
    }

    [Fact]
    public void MissingOrCorruptPrincipalIsBadArg()
    {
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Principal.Load(_directory)).Code);

        using (var principal = Principal.CreateInMemory())
        {
            principal.Save(_directory);
        }

        File.WriteAllText(Path.Combine(_directory, "privatekey.pem"), "-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n");
        Assert.Equal(FlowErrorCode.BadArg, Assert.Throws<FlowException>(() => Principal.Load(_directory)).Code);
    }

    private static string[] Describe(BlessingRoots roots) =>
        roots.Dump().Select(e => $"{Convert.ToHexString(e.Key.Bytes.Span)} {e.Value}").Order(StringComparer.Ordinal).ToArray();
}
