using FlowOrleans.Grains.Hosting;

namespace FlowOrleans.Tests.Cluster;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class FlowOrleansOptionsTests
{
    [Fact]
    public void DefaultsAreValid()
    {
        Assert.True(new FlowOrleansOptionsValidator().Validate(null, new FlowOrleansOptions()).Succeeded);
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
        var result = new FlowOrleansOptionsValidator().Validate(null, options);
        Assert.Equal(4, result.Failures!.Count());
    }
}
