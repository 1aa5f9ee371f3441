using FlowOrleans.Grains.Hosting;
using FlowOrleans.Grains.Security;

namespace FlowOrleans.Tests.Cluster;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FlowOrleansOptionsTests
{
    [Fact]
    public void DefaultsAreValidOnceTrustNamesWhomToAccept()
    {
        var options = new FlowOrleansOptions();
        options.Trust.AcceptPatterns.Add("acme:peer");
        Assert.True(new FlowOrleansOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void WithoutAcceptPatternsOrAnExplicitAllowEveryoneTheSiloDoesNotStart()
    {
        var result = new FlowOrleansOptionsValidator().Validate(null, new FlowOrleansOptions());
        Assert.Contains("FlowOrleans:Trust:AcceptPatterns", Assert.Single(result.Failures!), StringComparison.Ordinal);

        var everyone = new FlowOrleansOptions();
        everyone.Trust.AllowEveryone = true;
        Assert.True(new FlowOrleansOptionsValidator().Validate(null, everyone).Succeeded);
    }

    [Theory]
    [InlineData("Policy:Dial:Networks", "10.0.0.0/33")]
    [InlineData("Policy:Dial:Ports", "9000-80")]
    [InlineData("Policy:Listen:UnixDirectory", "relative/dir")]
    [InlineData("Trust:AcceptPatterns", "a:...")]
    [InlineData("Trust:Roots", "not-base64!")]
    public void BadTrustAndPolicySettingsAreNamed(string setting, string value)
    {
        var options = new FlowOrleansOptions();
        options.Trust.AllowEveryone = true;
        switch (setting)
        {
            case "Policy:Dial:Networks": options.Policy.Dial.Networks = [value]; break;
            case "Policy:Dial:Ports": options.Policy.Dial.Ports = [value]; break;
            case "Policy:Listen:UnixDirectory": options.Policy.Listen.UnixDirectory = value; break;
            case "Trust:AcceptPatterns": options.Trust.AcceptPatterns.Add(value); break;
            default: options.Trust.Roots.Add(new TrustedRoot { PublicKey = value, Pattern = "acme" }); break;
        }

        var failure = Assert.Single(new FlowOrleansOptionsValidator().Validate(null, options).Failures!);
        Assert.Contains(value, failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("/127.0.0.1:0")]
    [InlineData("tcp/")]
    public void MalformedListenAddressesAreRejected(string listen)
    {
        var options = new FlowOrleansOptions();
        options.Listen.Add(listen);
        var result = new FlowOrleansOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(listen, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void OutOfRangeSettingsAreEachReported()
    {
        var options = new FlowOrleansOptions { ReadChunkSize = 64 * 1024 + 1, ReadAheadChunks = 0, ClaimTimeout = TimeSpan.Zero, ListenName = " " };
        options.Trust.AllowEveryone = true;
        var result = new FlowOrleansOptionsValidator().Validate(null, options);
        Assert.Equal(4, result.Failures!.Count());
    }
}
