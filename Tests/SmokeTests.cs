using FlowOrleans.Transport;

namespace FlowOrleans.Tests;

[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class SmokeTests
{
    [Fact]
    public void FlowExceptionCarriesCode()
    {
        var e = new FlowException(FlowErrorCode.BadArg, "x");
        Assert.Equal(FlowErrorCode.BadArg, e.Code);
    }
}
