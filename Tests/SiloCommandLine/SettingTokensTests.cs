using FlowOrleans.Silo.CommandLine;

namespace FlowOrleans.Tests.SiloCommandLine;

/// <summary>Which command-line tokens the silo takes as settings (the configuration reads them) and which it refuses.</summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SettingTokensTests
{
    public static TheoryData<string[]> Settings => new()
    {
        Array.Empty<string>(),
        new[] { "--Silo:SiloPort=11111" },
        new[] { "--Silo:SiloPort", "11111", "--FlowOrleans:Listen:0=tcp/127.0.0.1:8100" },
        new[] { "--Silo:PostgreSql=Host=db;Password=a=b" },
    };

    public static TheoryData<string[], string> Strays => new()
    {
        { ["--hlep"], "--hlep" },
        { ["--Silo:SiloPort=1", "stray"], "stray" },
        { ["-v"], "-v" },
        { ["--Silo:SiloPort"], "--Silo:SiloPort" },
        { ["--:Key=1"], "--:Key=1" },
    };

    [Theory]
    [MemberData(nameof(Settings))]
    public void SettingsAreTaken(string[] tokens) => Assert.Null(SettingTokens.FirstStray(tokens));

    [Theory]
    [MemberData(nameof(Strays))]
    public void AnythingElseIsRefused(string[] tokens, string stray) => Assert.Equal(stray, SettingTokens.FirstStray(tokens));
}
